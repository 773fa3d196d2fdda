#pragma once
// Multi-similarity pair miner (Wang et al., "Multi-Similarity Loss with
// General Pair Weighting for Deep Metric Learning", CVPR 2019, eq. 5-6). On
// the cosine similarity S of L2-normalised embeddings, for every anchor a
// that has a positive and a negative:
//   keeps negative n  when S_an > min_{p} S_ap - epsilon
//   keeps positive p  when S_ap < max_{n} S_an + epsilon
// (negatives harder than the hardest positive, positives harder than the
// hardest negative, up to epsilon). Output: pairs.
#include <string>

#include "dml/miners/miner.h"

namespace dml::miners {

struct MultiSimilarityMinerParams {
  double epsilon = 0.1;
};

class MultiSimilarityMiner : public Miner {
 public:
  static constexpr const char* kName = "multi_similarity";
  explicit MultiSimilarityMiner(MultiSimilarityMinerParams params = {}) : params_(params) {}
  MinedTuples mine(const Tensor& embeddings, const Tensor& labels, Generator& gen) override;
  std::string describe() const override;

 private:
  MultiSimilarityMinerParams params_;
};

}  // namespace dml::miners
