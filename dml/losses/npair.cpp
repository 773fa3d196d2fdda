#include "dml/losses/npair.h"

#include <cmath>
#include <numbers>
#include <set>

#include "dml/losses/loss_terms.h"
#include "dml/losses/registry.h"
#include "dml/params.h"
#include "engine/ops.h"

namespace dml::losses {

namespace {

// The N pairs of a batch: row i of anchors and positives is pair i.
struct NPairBatch {
  Tensor anchors, positives;  // [N, D]
  int64_t n = 0;
};

NPairBatch npair_batch(const Tensor& embeddings, const Tensor& labels,
                       const miners::MinedTuples* mined, const char* who) {
  miners::Labels y = miners::batch_labels(embeddings, labels, who);
  miners::Pairs pairs = miners::pairs_for(y, mined, who);
  std::vector<int64_t> anchors, positives;
  std::set<int64_t> taken;
  for (size_t i = 0; i < pairs.pos.size(); ++i)
    if (taken.insert(y[size_t(pairs.pos.anchor[i])]).second) {
      anchors.push_back(pairs.pos.anchor[i]);
      positives.push_back(pairs.pos.other[i]);
    }
  NPairBatch b;
  b.n = int64_t(anchors.size());
  if (b.n < 2) return b;
  b.anchors = index_select(embeddings, 0, index_tensor(anchors, embeddings.device()));
  b.positives = index_select(embeddings, 0, index_tensor(positives, embeddings.device()));
  return b;
}

// Sohn's softmax form: -log softmax_j(a_i . q_j)[i], averaged over i.
Tensor npair_term(const NPairBatch& b) {
  Tensor logits = matmul(b.anchors, transpose(b.positives, 0, 1));
  Tensor matching = sum(b.anchors * b.positives, {1});
  return mean(logsumexp(logits, {1}) - matching);
}

Tensor l2_term(const NPairBatch& b) {
  return (sum(b.anchors * b.anchors) + sum(b.positives * b.positives)) / double(2 * b.n);
}

// u8 [n, n]: 1 off the diagonal (pair j's positive is a negative of anchor i != j).
Tensor other_pairs_mask(int64_t n, Device device) {
  std::vector<uint8_t> mask(size_t(n * n), 1);
  for (int64_t i = 0; i < n; ++i) mask[size_t(i * n + i)] = 0;
  return from_vector(mask, {n, n}, device);
}

}  // namespace

Tensor NPairLoss::forward(const Tensor& embeddings, const Tensor& labels,
                          const miners::MinedTuples* mined) {
  NPairBatch b = npair_batch(embeddings, labels, mined, kName);
  if (b.n < 2) return zero_loss(embeddings, *this);
  return npair_term(b) + l2_term(b) * params_.l2_reg;
}

std::string NPairLoss::describe() const {
  return describe_params(kName, {{"l2_reg", params_.l2_reg}});
}

Tensor AngularLoss::forward(const Tensor& embeddings, const Tensor& labels,
                            const miners::MinedTuples* mined) {
  NPairBatch b = npair_batch(embeddings, labels, mined, kName);
  if (b.n < 2) return zero_loss(embeddings, *this);
  const double tan2 = std::pow(std::tan(params_.alpha * std::numbers::pi / 180), 2);
  Tensor matching = sum(b.anchors * b.positives, {1}, true);  // [N, 1]
  Tensor f = matmul(b.anchors + b.positives, transpose(b.positives, 0, 1)) * (4 * tan2) -
             matching * (2 * (1 + tan2));
  Tensor angular = mean(masked_logsumexp(f, other_pairs_mask(b.n, f.device()), true));
  return npair_term(b) + angular * params_.angular_weight + l2_term(b) * params_.l2_reg;
}

std::string AngularLoss::describe() const {
  return describe_params(kName, {{"alpha", params_.alpha},
                                 {"angular_weight", params_.angular_weight},
                                 {"l2_reg", params_.l2_reg}});
}

namespace {

[[maybe_unused]] const bool npair_registered = loss_registry().add([] {
  const NPairParams npair;
  return LossEntry{
      NPairLoss::kName,
      LossKind::tuple,
      "Sohn 2016: softmax over one positive per class, L2 penalty",
      {ParamSpec::non_negative("l2_reg", npair.l2_reg, "weight of mean squared embedding norm")},
      [](const LossContext&, const LossParams& p) {
        return std::make_unique<NPairLoss>(NPairParams{p.at("l2_reg")});
      }};
}());

[[maybe_unused]] const bool angular_registered = loss_registry().add([] {
  const AngularParams angular;
  return LossEntry{
      AngularLoss::kName,
      LossKind::tuple,
      "Wang et al. 2017: angular loss in N-pair form, plus N-pair",
      {ParamSpec::open_interval("alpha", angular.alpha, 0, 90, "angle bound in degrees"),
       ParamSpec::non_negative("angular_weight", angular.angular_weight,
                               "lambda on the angular term"),
       ParamSpec::non_negative("l2_reg", angular.l2_reg, "weight of mean squared embedding norm")},
      [](const LossContext&, const LossParams& p) {
        return std::make_unique<AngularLoss>(
            AngularParams{p.at("alpha"), p.at("angular_weight"), p.at("l2_reg")});
      }};
}());

}  // namespace

}  // namespace dml::losses
