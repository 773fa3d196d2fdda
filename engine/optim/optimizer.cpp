#include "engine/optim/optimizer.h"

#include <algorithm>

#include "engine/autograd.h"
#include "engine/cuda_graph.h"
#include "engine/ops.h"

namespace dml {

namespace {

void check_skip_flag(const Tensor& skip_if) {
  if (skip_if.defined())
    DML_CHECK(skip_if.dtype() == DType::f32 && skip_if.numel() == 1,
              "optimizer: the skip flag must be one f32 element, got ", describe(skip_if),
              "; pass what non_finite_check_and_unscale returns");
}

}  // namespace

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

void Optimizer::check_gradients() const {
  for (const ParamGroup& g : groups_)
    for (const Tensor& p : g.params) {
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      DML_CHECK(
          grad.shape() == p.shape() && grad.dtype() == p.dtype() && grad.device() == p.device(),
          "optimizer: gradient ", describe(grad), " does not match parameter ", describe(p),
          " in group '", g.name, "'");
    }
}

// Normally one batch per group; parameters whose step counts differ (one
// skipped while others trained, a partial checkpoint) or with another dtype
// or device get their own, in order of first appearance.
std::vector<std::pair<size_t, Optimizer::Batch>> Optimizer::plan() const {
  const size_t num_slots = slot_names().size();
  std::vector<std::pair<size_t, Batch>> batches;
  size_t index = 0;  // over all groups' parameters
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const ParamGroup& g = groups_[gi];
    for (size_t pi = 0; pi < g.params.size(); ++pi, ++index) {
      const Tensor& p = g.params[pi];
      Tensor grad = p.grad();
      if (!grad.defined()) continue;  // as PyTorch: untouched parameters are skipped
      const std::vector<Tensor>& slots = slots_[gi][pi];
      DML_CHECK(slots.size() == num_slots, "optimizer: parameter ", describe(p), " in group '",
                g.name, "' has no state yet; stage_step() creates it (outside a CUDA graph's ",
                "capture) before launch_step()");
      const int64_t step = param_steps_[gi][pi] + 1;
      auto it = std::find_if(batches.begin(), batches.end(), [&](const auto& other) {
        const Batch& o = other.second;
        return other.first == gi && o.step == step && o.params[0].dtype() == p.dtype() &&
               o.params[0].device() == p.device();
      });
      if (it == batches.end()) {
        it = batches.insert(batches.end(), {gi, Batch{}});
        it->second.step = step;
        it->second.slots.resize(num_slots);
        it->second.first_param = index;
      }
      Batch& b = it->second;
      b.params.push_back(p);
      b.grads.push_back(grad);
      for (size_t s = 0; s < num_slots; ++s) b.slots[s].push_back(slots[s]);
    }
  }
  return batches;
}

void Optimizer::step(const Tensor& skip_if) {
  check_skip_flag(skip_if);  // before stage_step() makes any slot
  stage_step();
  launch_step(skip_if);
  commit_step();
}

void Optimizer::stage_step() {
  NoGradGuard no_grad;
  check_gradients();
  const size_t num_slots = slot_names().size();
  for (size_t gi = 0; gi < groups_.size(); ++gi)
    for (size_t pi = 0; pi < groups_[gi].params.size(); ++pi) {
      const Tensor& p = groups_[gi].params[pi];
      DML_CHECK(!graph_capturing(p.device()), "optimizer: stage_step() while a CUDA graph is ",
                "captured on ", p.device().str(), "; stage before capturing and before each ",
                "replay, and capture launch_step() alone");
      std::vector<Tensor>& slots = slots_[gi][pi];
      if (p.grad().defined() && slots.empty())
        for (size_t s = 0; s < num_slots; ++s) slots.push_back(zeros_like(p));
    }
  // One upload per device and step, of every parameter's slot (unused ones
  // zero): a few KiB.
  const std::vector<std::pair<size_t, Batch>> batches = plan();
  int64_t num_params = 0;
  for (const ParamGroup& g : groups_) num_params += int64_t(g.params.size());
  const Tensor host = zeros({num_params * kCoefficientDoubles}, DType::f64);
  for (const auto& [gi, b] : batches)
    coefficients(groups_[gi], b,
                 static_cast<double*>(host.raw_data()) + b.first_param * kCoefficientDoubles);
  std::vector<Device> written;
  for (const auto& [gi, b] : batches) {
    const Device device = b.params[0].device();
    if (std::find(written.begin(), written.end(), device) != written.end()) continue;
    written.push_back(device);
    const Tensor* staged = staged_coefficients(device);
    if (staged == nullptr)
      staged = &coefficients_.emplace_back(Tensor::empty(host.shape(), DType::f64, device));
    copy_into(*staged, host);
  }
}

const Tensor* Optimizer::staged_coefficients(Device device) const {
  for (const Tensor& t : coefficients_)
    if (t.device() == device) return &t;
  return nullptr;
}

void Optimizer::launch_step(const Tensor& skip_if) {
  NoGradGuard no_grad;
  check_gradients();
  const std::vector<std::pair<size_t, Batch>> batches = plan();
  check_skip_flag(skip_if);
  for (const auto& [gi, b] : batches) {
    const Device device = b.params[0].device();
    DML_CHECK(!skip_if.defined() || skip_if.device() == device, "optimizer: the skip flag ",
              describe(skip_if), " is not on the device of parameter ", describe(b.params[0]),
              "; make it there");
    DML_CHECK(staged_coefficients(device) != nullptr,
              "optimizer: launch_step() for parameters that no stage_step() staged on ",
              device.str(), "; call stage_step() first (before a CUDA graph's capture and each ",
              "replay)");
  }
  const float* flag = skip_if.defined() ? static_cast<const float*>(skip_if.raw_data()) : nullptr;
  for (const auto& [gi, b] : batches) {
    const Tensor* staged = staged_coefficients(b.params[0].device());
    update(b, static_cast<const double*>(staged->raw_data()) + b.first_param * kCoefficientDoubles,
           flag);
  }
}

void Optimizer::commit_step() {
  for (size_t gi = 0; gi < groups_.size(); ++gi)
    for (size_t pi = 0; pi < groups_[gi].params.size(); ++pi)
      if (groups_[gi].params[pi].grad().defined()) ++param_steps_[gi][pi];
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
      if (slots_[gi][pi].empty() || param_steps_[gi][pi] == 0) continue;  // staged, not taken
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

std::vector<Tensor> Optimizer::parameters() const {
  std::vector<Tensor> out;
  for (const ParamGroup& g : groups_) out.insert(out.end(), g.params.begin(), g.params.end());
  return out;
}

}  // namespace dml
