#include "engine/optim/optimizer.h"

#include <algorithm>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace dml {

Optimizer::Optimizer(std::vector<ParamGroup> groups) : groups_(std::move(groups)) {
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    ParamGroup& g = groups_[gi];
    if (g.base_lr < 0) g.base_lr = g.lr;
    for (const Tensor& p : g.params) {
      DML_CHECK(p.defined() && p.requires_grad() && p.is_leaf(), "optimizer: parameter group '",
                g.name, "' holds ", describe(p), ", which is not a leaf that requires grad");
      DML_CHECK(p.dtype() == DType::f32 || p.dtype() == DType::f64, "optimizer: parameter ",
                describe(p), " in group '", g.name, "' must be f32 or f64");
    }
    slots_.emplace_back(g.params.size());
    param_steps_.emplace_back(g.params.size(), 0);
  }
}

void Optimizer::step(const Tensor& skip_if) {
  NoGradGuard no_grad;
  // Every check before anything changes: a refused step leaves no count
  // advanced, no slot created and no parameter moved.
  if (skip_if.defined())
    DML_CHECK(skip_if.dtype() == DType::f32 && skip_if.numel() == 1,
              "optimizer: the skip flag must be one f32 element, got ", describe(skip_if),
              "; pass what non_finite_check_and_unscale returns");
  for (const ParamGroup& g : groups_)
    for (const Tensor& p : g.params) {
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      DML_CHECK(grad.shape() == p.shape() && grad.dtype() == p.dtype(), "optimizer: gradient ",
                describe(grad), " does not match parameter ", describe(p));
      DML_CHECK(!skip_if.defined() || skip_if.device() == p.device(), "optimizer: the skip flag ",
                describe(skip_if), " is not on the device of parameter ", describe(p),
                " in group '", g.name, "'; make it there");
    }

  // Normally one batch per group; parameters whose step counts differ (one
  // skipped while others trained, a partial checkpoint) or with another dtype
  // or device get their own, in order of first appearance.
  const size_t num_slots = slot_names().size();
  std::vector<std::pair<size_t, Batch>> batches;  // (group, batch)
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    ParamGroup& g = groups_[gi];
    for (size_t pi = 0; pi < g.params.size(); ++pi) {
      Tensor& p = g.params[pi];
      Tensor grad = p.grad();
      if (!grad.defined()) continue;  // as PyTorch: untouched parameters are skipped
      std::vector<Tensor>& slots = slots_[gi][pi];
      if (slots.empty())
        for (size_t s = 0; s < num_slots; ++s) slots.push_back(zeros_like(p));
      const int64_t step = ++param_steps_[gi][pi];
      auto it = std::find_if(batches.begin(), batches.end(), [&](const auto& other) {
        const Batch& o = other.second;
        return other.first == gi && o.step == step && o.params[0].dtype() == p.dtype() &&
               o.params[0].device() == p.device();
      });
      if (it == batches.end()) {
        it = batches.insert(batches.end(), {gi, Batch{}});
        it->second.step = step;
        it->second.slots.resize(num_slots);
      }
      Batch& b = it->second;
      b.params.push_back(p);
      b.grads.push_back(grad);
      for (size_t s = 0; s < num_slots; ++s) b.slots[s].push_back(slots[s]);
    }
  }
  const float* flag = skip_if.defined() ? static_cast<const float*>(skip_if.raw_data()) : nullptr;
  for (const auto& [gi, b] : batches) update(groups_[gi], b, flag);
  ++steps_;
}

void Optimizer::zero_grad() {
  for (ParamGroup& g : groups_)
    for (Tensor& p : g.params) p.zero_grad();
}

namespace {

std::string state_prefix(const ParamGroup& g, size_t param) {
  return g.name + "." + std::to_string(param) + ".";
}

}  // namespace

NamedTensors Optimizer::state() const {
  NamedTensors out;
  std::vector<std::string> names = slot_names();
  for (size_t gi = 0; gi < groups_.size(); ++gi)
    for (size_t pi = 0; pi < slots_[gi].size(); ++pi) {
      if (slots_[gi][pi].empty()) continue;
      const std::string prefix = state_prefix(groups_[gi], pi);
      for (size_t s = 0; s < slots_[gi][pi].size(); ++s)
        out.emplace_back(prefix + names[s], slots_[gi][pi][s]);
      out.emplace_back(prefix + "step",
                       from_vector(std::vector<int64_t>{param_steps_[gi][pi]}, {1}));
    }
  return out;
}

void Optimizer::load_state(const NamedTensors& state) {
  std::vector<std::string> names = slot_names();
  for (const auto& [name, value] : state) {
    bool found = false;
    for (size_t gi = 0; gi < groups_.size() && !found; ++gi)
      for (size_t pi = 0; pi < groups_[gi].params.size() && !found; ++pi) {
        const std::string prefix = state_prefix(groups_[gi], pi);
        if (name.rfind(prefix, 0) != 0) continue;
        const std::string slot = name.substr(prefix.size());
        const Tensor& p = groups_[gi].params[pi];
        found = true;
        if (slot == "step") {
          DML_CHECK(value.dtype() == DType::i64 && value.numel() == 1, "optimizer: state '", name,
                    "' must be one i64, got ", describe(value));
          param_steps_[gi][pi] = value.to_vector<int64_t>()[0];
          continue;
        }
        auto it = std::find(names.begin(), names.end(), slot);
        DML_CHECK(it != names.end(), "optimizer: state '", name,
                  "' names no slot of this optimizer");
        DML_CHECK(value.shape() == p.shape(), "optimizer: state '", name, "' is ", describe(value),
                  " but its parameter is ", describe(p));
        std::vector<Tensor>& slots = slots_[gi][pi];
        if (slots.empty())
          for (size_t s = 0; s < names.size(); ++s) slots.push_back(zeros_like(p));
        slots[it - names.begin()] = value.to(p.dtype()).to(p.device()).clone();
      }
    DML_CHECK(found, "optimizer: state '", name,
              "' matches no parameter group and index of this optimizer (was it built with the "
              "same groups?)");
  }
}

}  // namespace dml
