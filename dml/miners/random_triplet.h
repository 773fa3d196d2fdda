#pragma once
// Random triplet miner (the "random" sampler of Roth et al. 2020): for every
// anchor that has a positive and a negative in the batch, draws
// triplets_per_anchor triplets (a, p, n) with p uniform among the anchor's
// positives and n uniform among its negatives, from the given Generator.
#include <cstdint>
#include <string>

#include "dml/miners/miner.h"

namespace dml::miners {

struct RandomTripletParams {
  int64_t triplets_per_anchor = 1;
};

class RandomTripletMiner : public Miner {
 public:
  static constexpr const char* kName = "random";
  explicit RandomTripletMiner(RandomTripletParams params = {});
  MinedTuples mine(const Tensor& embeddings, const Tensor& labels, Generator& gen) override;
  std::string describe() const override;

 private:
  RandomTripletParams params_;
};

}  // namespace dml::miners
