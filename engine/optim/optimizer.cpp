#include "engine/optim/optimizer.h"

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

std::vector<std::pair<std::string, Tensor>> Optimizer::state() const {
  std::vector<std::pair<std::string, Tensor>> out;
  std::vector<std::string> names = slot_names();
  for (size_t gi = 0; gi < groups_.size(); ++gi)
    for (size_t pi = 0; pi < slots_[gi].size(); ++pi)
      for (size_t s = 0; s < slots_[gi][pi].size(); ++s)
        out.emplace_back(groups_[gi].name + "." + std::to_string(pi) + "." + names[s],
                         slots_[gi][pi][s]);
  return out;
}

}  // namespace dml
