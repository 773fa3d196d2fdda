#include "dml/losses/snr_contrastive.h"

#include "dml/losses/contrastive.h"
#include "dml/losses/loss_terms.h"
#include "dml/losses/registry.h"
#include "dml/params.h"
#include "engine/ops.h"

namespace dml::losses {

namespace {

// d_S(a_i, b_i) for each listed pair. The variance correction cancels.
Tensor snr_distances(const Tensor& e, const miners::PairList& pairs) {
  Tensor a = index_select(e, 0, index_tensor(pairs.anchor, e.device()));
  Tensor b = index_select(e, 0, index_tensor(pairs.other, e.device()));
  return var(b - a, {1}) / var(a, {1});
}

}  // namespace

Tensor SnrContrastiveLoss::forward(const Tensor& embeddings, const Tensor& labels,
                                   const miners::MinedTuples* mined) {
  return loss_on(embeddings, labels, mined, embeddings);
}

Tensor SnrContrastiveLoss::forward_anchored(const Tensor& embeddings, const Tensor& labels,
                                            const miners::MinedTuples& tuples, int64_t begin,
                                            int64_t end) {
  return loss_on(embeddings, labels, &tuples, embeddings.slice(begin, end));
}

Tensor SnrContrastiveLoss::loss_on(const Tensor& embeddings, const Tensor& labels,
                                   const miners::MinedTuples* tuples, const Tensor& rows) {
  miners::Labels y = miners::batch_labels(embeddings, labels, kName);
  DML_CHECK(embeddings.size(1) >= 2, kName,
            ": the SNR distance needs embeddings of at least 2 features (a variance), got ",
            dml::describe(embeddings));
  miners::Pairs pairs = miners::pairs_for(y, tuples, kName);
  if (pairs.pos.size() + pairs.neg.size() == 0) return zero_loss(embeddings, *this);
  Tensor terms =
      contrastive_terms(snr_distances(embeddings, pairs.pos), snr_distances(embeddings, pairs.neg),
                        params_.pos_margin, params_.neg_margin);
  return terms + mean(abs(sum(rows, {1}))) * params_.zero_mean_reg;
}

std::string SnrContrastiveLoss::describe() const {
  return describe_params(kName, {{"pos_margin", params_.pos_margin},
                                 {"neg_margin", params_.neg_margin},
                                 {"zero_mean_reg", params_.zero_mean_reg}});
}

namespace {

[[maybe_unused]] const bool registered = loss_registry().add([] {
  const SnrContrastiveParams snr;
  return LossEntry{
      SnrContrastiveLoss::kName,
      LossKind::tuple,
      "Yuan et al. 2019: contrastive on the signal-to-noise-ratio distance",
      {ParamSpec::non_negative("pos_margin", snr.pos_margin, "positives below cost nothing"),
       ParamSpec::non_negative("neg_margin", snr.neg_margin, "negatives above cost nothing"),
       ParamSpec::non_negative("zero_mean_reg", snr.zero_mean_reg,
                               "weight of mean |sum of features|")},
      [](const LossContext&, const LossParams& p) {
        return std::make_unique<SnrContrastiveLoss>(
            SnrContrastiveParams{p.at("pos_margin"), p.at("neg_margin"), p.at("zero_mean_reg")});
      }};
}());

}  // namespace

}  // namespace dml::losses
