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

void Optimizer::step() {
  NoGradGuard no_grad;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    ParamGroup& g = groups_[gi];
    for (size_t pi = 0; pi < g.params.size(); ++pi) {
      Tensor& p = g.params[pi];
      Tensor grad = p.grad();
      if (!grad.defined()) continue;  // as PyTorch: untouched parameters are skipped
      DML_CHECK(grad.shape() == p.shape() && grad.dtype() == p.dtype(), "optimizer: gradient ",
                describe(grad), " does not match parameter ", describe(p));
      std::vector<Tensor>& slots = slots_[gi][pi];
      if (slots.empty())
        for (size_t s = 0; s < slot_names().size(); ++s) slots.push_back(zeros_like(p));
      update(g, p, grad, slots, ++param_steps_[gi][pi]);
    }
  }
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
