#pragma once
// Batch-hard miner (Hermans, Beyer & Leibe, "In Defense of the Triplet Loss
// for Person Re-Identification", 2017). On the Euclidean distance d between
// L2-normalised embeddings, for every anchor that has a positive and a
// negative: its farthest positive and its nearest negative, one triplet per
// anchor (the lowest index on a tie).
#include <string>

#include "dml/miners/miner.h"

namespace dml::miners {

class BatchHardMiner : public Miner {
 public:
  static constexpr const char* kName = "batch_hard";
  MinedTuples mine(const Tensor& embeddings, const Tensor& labels, Generator& gen) override;
  std::string describe() const override { return std::string(kName) + "()"; }
};

}  // namespace dml::miners
