#pragma once
// What the proxy and classification losses share: a learnable matrix with
// one row per class (proxies, class weights) or several (SoftTriple's
// centers), the checks every batch must pass against it, and the cosine
// similarities between embeddings and rows (loss_terms.h's
// cosine_similarities) that all six losses start from.
#include <string>
#include <vector>

#include "dml/losses/loss.h"
#include "dml/params.h"

namespace dml::losses {

class ProxyLoss : public Loss {
 public:
  int64_t num_classes() const { return num_classes_; }
  bool uses_tuples() const override { return false; }

 protected:
  // rows: [num_classes * rows_per_class, D], floating, at least min_classes
  // classes; registered as the parameter `parameter_name`. Row
  // c * rows_per_class + k belongs to class c.
  ProxyLoss(std::string loss_name, const std::string& parameter_name, Tensor rows,
            int64_t rows_per_class = 1, int64_t min_classes = 1);

  // Checks embeddings [B, D] (floating, B >= 1, D matching the parameter) and labels
  // i64 [B] in [0, num_classes); returns the labels on the CPU.
  std::vector<int64_t> check_batch(const Tensor& embeddings, const Tensor& labels) const;
  // The parameter in the embeddings' dtype (a differentiable cast when they
  // differ, so its gradient still reaches the parameter).
  Tensor rows_for(const Tensor& embeddings) const;
  // u8 [B, num_classes]: 1 where the column is the sample's class.
  Tensor target_mask(const Tensor& labels) const;
  // describe() of every loss: "name(key=value, ..., classes=C)" in key order.
  std::string describe_with(ParamValues params) const;

 private:
  std::string loss_name_;
  Tensor rows_;
  int64_t num_classes_ = 0;
};

// Checks that a LossContext can size a loss's rows (a generator, at least
// min_classes classes, a positive embedding size); errors name the loss.
void check_context(const char* loss_name, const LossContext& ctx, int64_t min_classes = 1);
// [rows, ctx.embedding_dim] drawn from ctx.gen: N(0, std^2) or U(-bound, bound).
Tensor normal_rows(const LossContext& ctx, int64_t rows, double std);
Tensor uniform_rows(const LossContext& ctx, int64_t rows, double bound);
// Class weights [num_classes, D] after check_context, drawn as ArcFace's and
// CosFace's reference code does (xavier_uniform_): Glorot & Bengio's
// U(+-sqrt(6 / (num_classes + D))).
Tensor xavier_uniform_class_weights(const char* loss_name, const LossContext& ctx);

}  // namespace dml::losses
