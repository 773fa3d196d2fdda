#include "dml/losses/softtriple.h"

#include <cmath>
#include <sstream>
#include <vector>

#include "dml/losses/param_reader.h"
#include "engine/ops.h"

namespace dml::losses {
namespace {

Tensor initial_centers(const LossContext& ctx, int64_t centers_per_class) {
  check_context(SoftTripleLoss::kName, ctx);
  DML_CHECK(centers_per_class >= 1, "loss ", SoftTripleLoss::kName,
            ": centers_per_class must be at least 1, got ", centers_per_class);
  const int64_t rows = ctx.num_classes * centers_per_class;
  return uniform_rows(ctx, rows, 1.0 / std::sqrt(double(rows)));
}

// [K, K] with 1 above the diagonal: each unordered pair of centers once.
Tensor pairs_above_diagonal(int64_t k, DType dtype) {
  std::vector<double> mask(size_t(k * k), 0.0);
  for (int64_t t = 0; t < k; ++t)
    for (int64_t s = t + 1; s < k; ++s) mask[size_t(t * k + s)] = 1;
  return from_vector(mask, {k, k}).to(dtype);
}

}  // namespace

SoftTripleLoss::SoftTripleLoss(const LossContext& ctx, SoftTripleParams params)
    : SoftTripleLoss(initial_centers(ctx, params.centers_per_class), params) {}

SoftTripleLoss::SoftTripleLoss(Tensor centers, SoftTripleParams params)
    : ProxyLoss(kName, "centers", std::move(centers), params.centers_per_class), params_(params) {}

Tensor SoftTripleLoss::forward(const Tensor& embeddings, const Tensor& labels,
                               const miners::MinedTuples*) {
  check_batch(embeddings, labels);
  const int64_t batch = embeddings.shape()[0], classes = num_classes(),
                k = params_.centers_per_class;
  Tensor centers = rows_for(embeddings);
  Tensor sim = cosine_logits(embeddings, centers).reshape({batch, classes, k});
  Tensor relaxed = sum(softmax(sim * (1.0 / params_.gamma), 2) * sim, {2});  // [B, C]
  Tensor margins = one_hot(labels, classes, relaxed.dtype()) * params_.margin;
  Tensor loss = cross_entropy((relaxed - margins) * params_.la, labels);
  if (params_.tau > 0 && k > 1) loss = loss + center_regulariser(centers) * params_.tau;
  return loss;
}

Tensor SoftTripleLoss::center_regulariser(const Tensor& centers) const {
  // Per class, so the cost is C K^2 D rather than (C K)^2 D.
  const int64_t classes = num_classes(), k = params_.centers_per_class;
  Tensor w = l2_normalize(centers, 1).reshape({classes, k, centers.shape()[1]});
  Tensor gram = matmul(w, transpose(w, 1, 2));  // [C, K, K]
  Tensor distances = sqrt((2 + 1e-5) - gram * 2.0);
  Tensor pairs = pairs_above_diagonal(k, centers.dtype());
  return sum(distances * pairs) / double(classes * k * (k - 1));
}

std::string SoftTripleLoss::describe() const {
  std::ostringstream os;
  os << kName << "(centers_per_class=" << params_.centers_per_class << ", la=" << params_.la
     << ", gamma=" << params_.gamma << ", tau=" << params_.tau << ", margin=" << params_.margin
     << ", classes=" << num_classes() << ")";
  return os.str();
}

std::unique_ptr<Loss> make_softtriple_loss(const LossContext& ctx,
                                           const std::map<std::string, double>& params) {
  ParamReader read(SoftTripleLoss::kName, params);
  SoftTripleParams p;
  p.centers_per_class = read.integer("centers_per_class", p.centers_per_class, 1);
  p.la = read.real("la", p.la, Range::positive());
  p.gamma = read.real("gamma", p.gamma, Range::positive());
  p.tau = read.real("tau", p.tau, Range::non_negative());
  p.margin = read.real("margin", p.margin, Range::non_negative());
  read.finish();
  return std::make_unique<SoftTripleLoss>(ctx, p);
}

}  // namespace dml::losses
