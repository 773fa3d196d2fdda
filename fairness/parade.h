#pragma once
// PARADE (Partial Attribute Decorrelation; "Is Fairness Only Metric Deep?",
// ICLR 2022). Beside the class head phi_c (the embedding that is kept), each
// sensitive attribute gets a head phi_a of the same form on the same pooled
// backbone features, trained with a DML loss on the attribute labels. An
// adversarial term removes the attribute's information from phi_c, as in the
// adversarial separation of DiVA / MIC:
//
//   u = normalize(R(phi_c)),  v = normalize(R(phi_a)),  R = gradient reversal
//   L_adv = -rho * mean_i mean_k (u_ik * normalize(xi(v_i))_k)^2
//   xi = Linear(D_a, hidden) -> ReLU -> Linear(hidden, D_c)
//
// The projector xi, trained normally, seeks the correlation between the two
// embeddings; the reversed gradient makes the backbone and heads remove it.
// rho sets how much is removed (rho = 0 is the plain baseline). The direction
// may be attribute -> class (xi maps v to u's space, as above), class ->
// attribute (a projector maps u to v's space), or both. After training the
// attribute heads and projectors are dropped: only the backbone and phi_c are
// exported.
#include <memory>
#include <string>
#include <vector>

#include "layers/embedding_head.h"
#include "layers/linear.h"

namespace dml::fairness {

enum class Direction { attribute_to_class, class_to_attribute, both };
Direction parse_direction(const std::string& name);  // "attribute_to_class", ...

// xi: Linear(in, hidden) -> ReLU -> Linear(hidden, out).
class Projector final : public nn::Module {
 public:
  Projector(int64_t in, int64_t hidden, int64_t out);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  std::shared_ptr<nn::Linear> in_, out_;
};

// -rho * mean_i mean_k (a_ik * normalize(projector(b_i))_k)^2 with
// a = normalize(R(target)), b = normalize(R(source)): the correlation the
// projector finds between `source` and `target`, reversed into both.
Tensor decorrelation_loss(const Tensor& target, const Tensor& source, Projector& projector,
                          double rho, double reversal_lambda = 1);

struct AttributeBranchConfig {
  std::string attribute;       // name in the SampleSet's attribute_names
  int64_t embedding_dim = 64;  // D_a
  double alpha = 1;            // weight of the attribute's DML loss
  double rho = 1;              // weight of the decorrelation
  Direction direction = Direction::attribute_to_class;
  int64_t projector_hidden = 512;
};

// One sensitive attribute's branch: its head phi_a and its projector(s).
class AttributeBranch final : public nn::Module {
 public:
  AttributeBranch(const AttributeBranchConfig& config, const nn::EmbeddingHeadConfig& class_head);
  // The attribute embedding phi_a from the backbone's feature map.
  Tensor forward(const Tensor& features) override;
  // L_adv for this attribute (a sum over the configured directions).
  Tensor decorrelation(const Tensor& class_embedding, const Tensor& attribute_embedding);
  std::string describe() const override;
  const AttributeBranchConfig& config() const { return config_; }
  // The projectors' parameters (their own learning rate) and the head's.
  std::vector<Tensor> projector_parameters() const;
  std::vector<Tensor> head_parameters() const { return head_->parameters(); }

 private:
  AttributeBranchConfig config_;
  std::shared_ptr<nn::EmbeddingHead> head_;
  std::shared_ptr<Projector> to_class_, to_attribute_;  // null when the direction omits it
};

}  // namespace dml::fairness
