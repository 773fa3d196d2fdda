#include "dml/losses/loss.h"

namespace dml::losses {

std::vector<Tensor> Loss::parameters() const {
  std::vector<Tensor> out;
  out.reserve(params_.size());
  for (const auto& [name, t] : params_) out.push_back(t);
  return out;
}

Tensor Loss::forward_mined(const Tensor& embeddings, const Tensor& labels, miners::Miner& miner,
                           Generator& gen) {
  const miners::MinedTuples mined = miner.mine(embeddings.detach(), labels, gen);
  return forward(embeddings, labels, &mined);
}

Tensor Loss::forward_anchored(const Tensor& embeddings, const Tensor& labels,
                              const miners::MinedTuples& tuples, int64_t, int64_t) {
  return forward(embeddings, labels, &tuples);
}

void Loss::to(Device device) {
  for (const auto& [name, t] : params_)
    if (t.device() != device) t.rebind(t.detach().to(device));
}

// Messages name the parameter, not the loss: describe() is virtual and this
// runs inside constructors.
Tensor Loss::register_parameter(const std::string& name, Tensor t) {
  for (const auto& [existing, unused] : params_)
    DML_CHECK(existing != name, "Loss::register_parameter: parameter '", name,
              "' is registered twice");
  DML_CHECK(t.defined() && is_floating(t.dtype()), "Loss::register_parameter: parameter '", name,
            "' must be a floating tensor");
  t.requires_grad_(true);
  params_.emplace_back(name, t);
  return t;
}

}  // namespace dml::losses
