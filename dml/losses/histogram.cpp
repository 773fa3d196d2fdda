#include "dml/losses/histogram.h"

#include "dml/losses/loss_terms.h"
#include "dml/losses/registry.h"
#include "dml/params.h"
#include "engine/ops.h"

namespace dml::losses {

namespace {

// [R + 1] histogram of the values s [count] over the nodes [1, R + 1].
Tensor soft_histogram(const Tensor& s, const Tensor& nodes, double delta) {
  Tensor weights = relu(1.0 - abs(s.unsqueeze(1) - nodes) / delta);
  return mean(weights, {0});
}

}  // namespace

HistogramLoss::HistogramLoss(HistogramParams params) : PairBasedLoss(kName), params_(params) {
  DML_CHECK(params.num_bins >= 1, kName, ": num_bins must be at least 1, got ", params.num_bins);
}

Tensor HistogramLoss::tuple_loss(const Tensor& embeddings, const miners::Labels&,
                                 const miners::Pairs& pairs, AnchorRows rows) {
  if (pairs.pos.size() == 0 || pairs.neg.size() == 0) return zero_loss(embeddings, *this);
  const int64_t bins = params_.num_bins;
  const double delta = 2.0 / double(bins);
  const int64_t n = bins + 1;  // nodes
  std::vector<double> t(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) t[size_t(i)] = -1 + double(i) * delta;
  const DType dtype = embeddings.dtype();
  const Device device = embeddings.device();
  Tensor nodes = from_vector(t, {1, n}, device).to(dtype);
  Tensor s = sphere_similarities(embeddings, rows);
  Tensor h_pos =
      soft_histogram(pick(s, pairs.pos.anchor, pairs.pos.other, rows.begin), nodes, delta);
  Tensor h_neg =
      soft_histogram(pick(s, pairs.neg.anchor, pairs.neg.other, rows.begin), nodes, delta);
  // cdf_pos[r] = sum_{q <= r} h_pos[q], as a product with an upper-triangular ones matrix.
  Tensor cdf_pos = matmul(h_pos.unsqueeze(0), upper_triangle(n, 0, dtype, device));
  return sum(h_neg * cdf_pos.squeeze(0));
}

std::string HistogramLoss::describe() const {
  return describe_params(kName, {{"num_bins", double(params_.num_bins)}});
}

namespace {

[[maybe_unused]] const bool registered = loss_registry().add([] {
  const HistogramParams histogram;
  return LossEntry{
      HistogramLoss::kName,
      LossKind::tuple,
      "Ustinova & Lempitsky 2016: overlap of positive and negative similarity histograms",
      {ParamSpec::whole("num_bins", double(histogram.num_bins), 1, 10000, "bins over [-1, 1]")},
      [](const LossContext&, const LossParams& p) {
        return std::make_unique<HistogramLoss>(HistogramParams{int64_t(p.at("num_bins"))});
      }};
}());

}  // namespace

}  // namespace dml::losses
