#pragma once
// Multi-similarity loss (Wang, Han, Huang, Dong & Scott, "Multi-Similarity
// Loss with General Pair Weighting for Deep Metric Learning", CVPR 2019). On
// the cosine similarity S of L2-normalised embeddings, for each anchor i with
// positive set P_i and negative set N_i:
//   l_i = 1/alpha log(1 + sum_{k in P_i} exp(-alpha (S_ik - base)))
//       + 1/beta  log(1 + sum_{k in N_i} exp( beta (S_ik - base)))
//   L = (1 / B) sum over the anchors that have both a positive and a negative
// (the authors' code skips the others and divides by the batch size; with
// anchor rows, by their number: the mean over the anchors).
// Without a miner P_i and N_i hold every pair of the batch. The paper's
// pair mining (epsilon 0.1) is the "multi_similarity" miner: the paper's full
// method is this loss fed by that miner. A pair mined twice counts once.
#include <string>

#include "dml/losses/anchored_loss.h"
#include "dml/losses/tuple_loss.h"
#include "dml/miners/tuples.h"

namespace dml::losses {

struct MultiSimilarityParams {
  double alpha = 2;   // weight of the positive similarities
  double beta = 50;   // weight of the negative similarities
  double base = 0.5;  // lambda, the similarity margin
};

class MultiSimilarityLoss : public PairBasedLoss {
 public:
  static constexpr const char* kName = "multi_similarity";
  explicit MultiSimilarityLoss(MultiSimilarityParams params = {})
      : PairBasedLoss(kName), params_(params) {}
  std::string describe() const override;

 private:
  // The sum over the valid anchors of `pairs` (of the checked batch),
  // anchored in `rows`, divided by their number.
  Tensor tuple_loss(const Tensor& embeddings, const miners::Labels& labels,
                    const miners::Pairs& pairs, AnchorRows rows) override;

  MultiSimilarityParams params_;
};

}  // namespace dml::losses
