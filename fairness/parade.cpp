#include "fairness/parade.h"

#include <sstream>

#include "base/error.h"
#include "engine/ops.h"

namespace dml::fairness {

Direction parse_direction(const std::string& name) {
  if (name == "attribute_to_class") return Direction::attribute_to_class;
  if (name == "class_to_attribute") return Direction::class_to_attribute;
  if (name == "both") return Direction::both;
  throw Error("parade direction '" + name +
              "' is not one of attribute_to_class, class_to_attribute, both");
}

Projector::Projector(int64_t in, int64_t hidden, int64_t out) {
  in_ = register_module("0", std::make_shared<nn::Linear>(in, hidden));
  out_ = register_module("2", std::make_shared<nn::Linear>(hidden, out));
}

Tensor Projector::forward(const Tensor& x) {
  return out_->forward(relu(in_->forward(x)));
}

std::string Projector::describe() const {
  return "Projector(" + std::to_string(in_->in_features) + " -> " +
         std::to_string(in_->out_features) + " -> " + std::to_string(out_->out_features) + ")";
}

Tensor decorrelation_loss(const Tensor& target, const Tensor& source, Projector& projector,
                          double rho, double reversal_lambda) {
  DML_CHECK(target.dim() == 2 && source.dim() == 2 && target.size(0) == source.size(0),
            "decorrelation_loss: target ", describe(target), " and source ", describe(source),
            " must be [B, D_t] and [B, D_s] with the same B");
  Tensor u = l2_normalize(gradient_reversal(target, reversal_lambda), 1);
  Tensor v = l2_normalize(gradient_reversal(source, reversal_lambda), 1);
  Tensor correlation = u * l2_normalize(projector(v), 1);
  return mean(correlation * correlation) * -rho;
}

AttributeBranch::AttributeBranch(const AttributeBranchConfig& config,
                                 const nn::EmbeddingHeadConfig& class_head)
    : config_(config) {
  DML_CHECK(config.embedding_dim >= 1 && config.projector_hidden >= 1 && config.rho >= 0 &&
                config.alpha >= 0,
            "parade attribute '", config.attribute,
            "': embedding_dim and projector_hidden must be >= 1, rho and alpha >= 0");
  nn::EmbeddingHeadConfig head = class_head;
  head.embedding_dim = config.embedding_dim;
  head.normalize = true;
  head_ = register_module("head", std::make_shared<nn::EmbeddingHead>(head));
  const int64_t d_c = class_head.embedding_dim, d_a = config.embedding_dim;
  if (config.direction != Direction::class_to_attribute)
    to_class_ =
        register_module("to_class", std::make_shared<Projector>(d_a, config.projector_hidden, d_c));
  if (config.direction != Direction::attribute_to_class)
    to_attribute_ = register_module("to_attribute",
                                    std::make_shared<Projector>(d_c, config.projector_hidden, d_a));
}

Tensor AttributeBranch::forward(const Tensor& features) {
  return head_->forward(features);
}

Tensor AttributeBranch::decorrelation(const Tensor& class_embedding,
                                      const Tensor& attribute_embedding) {
  Tensor total;
  if (to_class_)
    total = decorrelation_loss(class_embedding, attribute_embedding, *to_class_, config_.rho);
  if (to_attribute_) {
    Tensor other =
        decorrelation_loss(attribute_embedding, class_embedding, *to_attribute_, config_.rho);
    total = total.defined() ? total + other : other;
  }
  return total;
}

std::vector<Tensor> AttributeBranch::projector_parameters() const {
  std::vector<Tensor> out;
  for (const auto& p : {to_class_, to_attribute_})
    if (p)
      for (const Tensor& t : p->parameters()) out.push_back(t);
  return out;
}

std::string AttributeBranch::describe() const {
  std::ostringstream out;
  out << "AttributeBranch(" << config_.attribute << ", D_a " << config_.embedding_dim << ", alpha "
      << config_.alpha << ", rho " << config_.rho << ")";
  return out.str();
}

}  // namespace dml::fairness
