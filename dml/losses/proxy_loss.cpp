#include "dml/losses/proxy_loss.h"

#include <cmath>
#include <utility>

#include "engine/ops.h"

namespace dml::losses {

Tensor cosine_logits(const Tensor& embeddings, const Tensor& rows) {
  return linear(l2_normalize(embeddings, 1), l2_normalize(rows, 1));
}

ProxyLoss::ProxyLoss(std::string loss_name, const std::string& parameter_name, Tensor rows,
                     int64_t rows_per_class, int64_t min_classes)
    : loss_name_(std::move(loss_name)) {
  DML_CHECK(rows.defined() && rows.dim() == 2 && is_floating(rows.dtype()), "loss ", loss_name_,
            ": ", parameter_name, " must be a floating [classes x ", rows_per_class,
            ", D] matrix, got ", dml::describe(rows));
  DML_CHECK(rows_per_class >= 1 && rows.shape()[0] % rows_per_class == 0, "loss ", loss_name_, ": ",
            parameter_name, " ", dml::describe(rows), " does not hold ", rows_per_class,
            " rows per class");
  num_classes_ = rows.shape()[0] / rows_per_class;
  DML_CHECK(num_classes_ >= min_classes && rows.shape()[1] >= 1, "loss ", loss_name_, ": ",
            parameter_name, " ", dml::describe(rows), " must cover at least ", min_classes,
            " classes of a positive embedding size");
  // A copy: the loss owns its parameter and never aliases the caller's tensor.
  rows_ = register_parameter(parameter_name, rows.detach().clone());
}

std::vector<int64_t> ProxyLoss::check_batch(const Tensor& embeddings, const Tensor& labels) const {
  const int64_t dim = rows_.shape()[1];
  DML_CHECK(embeddings.defined() && embeddings.dim() == 2 && is_floating(embeddings.dtype()) &&
                embeddings.shape()[0] >= 1 && embeddings.shape()[1] == dim,
            "loss ", loss_name_, ": embeddings must be floating [B, ", dim, "] with B >= 1, got ",
            dml::describe(embeddings));
  DML_CHECK(labels.defined() && labels.dim() == 1 && labels.dtype() == DType::i64 &&
                labels.shape()[0] == embeddings.shape()[0],
            "loss ", loss_name_, ": labels must be i64 [", embeddings.shape()[0], "], got ",
            dml::describe(labels));
  std::vector<int64_t> values = labels.to(Device::cpu()).to_vector<int64_t>();
  for (size_t i = 0; i < values.size(); ++i)
    DML_CHECK(values[i] >= 0 && values[i] < num_classes_, "loss ", loss_name_, ": label ",
              values[i], " at batch index ", i, " is outside [0, ", num_classes_,
              "); labels must be training-class indices (num_classes = ", num_classes_, ")");
  return values;
}

Tensor ProxyLoss::rows_for(const Tensor& embeddings) const {
  return rows_.dtype() == embeddings.dtype() ? rows_ : rows_.to(embeddings.dtype());
}

Tensor ProxyLoss::target_mask(const Tensor& labels) const {
  return eq(labels.unsqueeze(1), arange(num_classes_).reshape({1, num_classes_}));
}

void check_context(const std::string& loss_name, const LossContext& ctx, int64_t min_classes) {
  DML_CHECK(ctx.num_classes >= min_classes, "loss ", loss_name, ": needs at least ", min_classes,
            " training classes, got num_classes = ", ctx.num_classes);
  DML_CHECK(ctx.embedding_dim >= 1, "loss ", loss_name, ": embedding_dim must be positive, got ",
            ctx.embedding_dim);
  DML_CHECK(ctx.gen != nullptr, "loss ", loss_name,
            ": needs a generator in its LossContext to initialise its parameters");
}

Tensor normal_rows(const LossContext& ctx, int64_t rows, double std) {
  return randn({rows, ctx.embedding_dim}, DType::f32, ctx.gen) * std;
}

Tensor uniform_rows(const LossContext& ctx, int64_t rows, double bound) {
  return rand({rows, ctx.embedding_dim}, DType::f32, ctx.gen) * (2 * bound) - bound;
}

Tensor xavier_uniform_rows(const LossContext& ctx, int64_t rows) {
  return uniform_rows(ctx, rows, std::sqrt(6.0 / double(rows + ctx.embedding_dim)));
}

}  // namespace dml::losses
