#include "dml/losses/loss.h"

namespace dml::losses {

std::vector<Tensor> Loss::parameters() const {
  std::vector<Tensor> out;
  out.reserve(params_.size());
  for (const auto& [name, t] : params_) out.push_back(t);
  return out;
}

Tensor Loss::register_parameter(const std::string& name, Tensor t) {
  t.requires_grad_();
  params_.emplace_back(name, t);
  return t;
}

}  // namespace dml::losses
