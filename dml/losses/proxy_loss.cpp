#include "dml/losses/proxy_loss.h"

#include <cmath>
#include <utility>

#include "dml/losses/loss_terms.h"
#include "engine/ops.h"

namespace dml::losses {

ProxyLoss::ProxyLoss(std::string loss_name, const std::string& parameter_name, Tensor rows,
                     int64_t rows_per_class, int64_t min_classes)
    : loss_name_(std::move(loss_name)) {
  DML_CHECK(rows.defined() && rows.dim() == 2 && is_floating(rows.dtype()), loss_name_, ": ",
            parameter_name, " must be a floating [classes x ", rows_per_class, ", D] matrix, got ",
            dml::describe(rows));
  DML_CHECK(rows_per_class >= 1 && rows.shape()[0] % rows_per_class == 0, loss_name_, ": ",
            parameter_name, " ", dml::describe(rows), " does not hold ", rows_per_class,
            " rows per class");
  num_classes_ = rows.shape()[0] / rows_per_class;
  DML_CHECK(num_classes_ >= min_classes && rows.shape()[1] >= 1, loss_name_, ": ", parameter_name,
            " ", dml::describe(rows), " must cover at least ", min_classes,
            " classes of a positive embedding size");
  // A copy: the loss owns its parameter and never aliases the caller's tensor.
  rows_ = register_parameter(parameter_name, rows.detach().clone());
}

std::vector<int64_t> ProxyLoss::check_batch(const Tensor& embeddings, const Tensor& labels) const {
  const char* who = loss_name_.c_str();
  miners::Labels y = miners::batch_labels(embeddings, labels, who);
  const int64_t dim = rows_.shape()[1];
  DML_CHECK(embeddings.size(0) >= 1 && embeddings.size(1) == dim, who, ": embeddings must be [B, ",
            dim, "] with B >= 1 to match its ", named_parameters()[0].first, " ",
            dml::describe(rows_), ", got ", dml::describe(embeddings));
  check_class_labels(y, num_classes_, who);
  return y;
}

Tensor ProxyLoss::rows_for(const Tensor& embeddings) const {
  return rows_.to(embeddings.dtype());
}

Tensor ProxyLoss::target_mask(const Tensor& labels) const {
  return eq(labels.unsqueeze(1), arange(num_classes_).reshape({1, num_classes_}));
}

std::string ProxyLoss::describe_with(ParamValues params) const {
  params["classes"] = double(num_classes_);
  return describe_params(loss_name_, params);
}

void check_context(const char* loss_name, const LossContext& ctx, int64_t min_classes) {
  DML_CHECK(ctx.num_classes >= min_classes, loss_name, ": needs at least ", min_classes,
            " training classes, got num_classes = ", ctx.num_classes);
  DML_CHECK(ctx.embedding_dim >= 1, loss_name, ": embedding_dim must be positive, got ",
            ctx.embedding_dim);
  DML_CHECK(ctx.gen != nullptr, loss_name,
            ": needs a generator in its LossContext to initialise its parameters");
}

Tensor normal_rows(const LossContext& ctx, int64_t rows, double std) {
  return randn({rows, ctx.embedding_dim}, DType::f32, ctx.gen) * std;
}

Tensor uniform_rows(const LossContext& ctx, int64_t rows, double bound) {
  return rand({rows, ctx.embedding_dim}, DType::f32, ctx.gen) * (2 * bound) - bound;
}

Tensor xavier_uniform_class_weights(const char* loss_name, const LossContext& ctx) {
  check_context(loss_name, ctx);
  const int64_t rows = ctx.num_classes;
  return uniform_rows(ctx, rows, std::sqrt(6.0 / double(rows + ctx.embedding_dim)));
}

}  // namespace dml::losses
