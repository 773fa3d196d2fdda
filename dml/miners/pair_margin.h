#pragma once
// Pair-margin miner (pytorch-metric-learning's PairMarginMiner). On the
// Euclidean distance d between L2-normalised embeddings it keeps the pairs
// that still violate a contrastive margin: positive pairs with
// d > pos_margin and negative pairs with d < neg_margin, over every ordered
// pair of the batch. Output: pairs.
#include <string>

#include "dml/miners/miner.h"

namespace dml::miners {

struct PairMarginParams {
  double pos_margin = 0.2;
  double neg_margin = 0.8;
};

class PairMarginMiner : public Miner {
 public:
  static constexpr const char* kName = "pair_margin";
  explicit PairMarginMiner(PairMarginParams params = {}) : params_(params) {}
  MinedTuples mine(const Tensor& embeddings, const Tensor& labels, Generator& gen) override;
  std::string describe() const override;

 private:
  PairMarginParams params_;
};

}  // namespace dml::miners
