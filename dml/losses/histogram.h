#pragma once
// Histogram loss (Ustinova & Lempitsky, "Learning Deep Embeddings with
// Histogram Loss", NeurIPS 2016). The cosine similarities s of the positive
// and of the negative pairs (L2-normalised embeddings) are each estimated as
// a histogram over the nodes t_r = -1 + r Delta, r = 0..R, Delta = 2 / R, with
// linear (triangular) assignment, so the histograms are differentiable in s:
//   h_r = 1/|S| sum_{s in S} max(0, 1 - |s - t_r| / Delta)
// The loss is the probability that a random negative pair is more similar
// than a random positive one:
//   L = sum_r h-_r sum_{q <= r} h+_q
// 0 when the batch has no positive or no negative pair. Without a miner every
// ordered pair is used (each unordered pair twice, which leaves the
// histograms unchanged).
#include <cstdint>
#include <string>

#include "dml/losses/anchored_loss.h"
#include "dml/losses/tuple_loss.h"
#include "dml/miners/tuples.h"

namespace dml::losses {

struct HistogramParams {
  int64_t num_bins = 100;  // R: PML's default (Delta = 0.02, 101 nodes)
};

class HistogramLoss : public PairBasedLoss {
 public:
  static constexpr const char* kName = "histogram";
  explicit HistogramLoss(HistogramParams params = {});
  std::string describe() const override;

 private:
  // The loss on `pairs` (of the checked batch), anchored in `rows`.
  Tensor tuple_loss(const Tensor& embeddings, const miners::Labels& labels,
                    const miners::Pairs& pairs, AnchorRows rows) override;

  HistogramParams params_;
};

}  // namespace dml::losses
