#pragma once
// Semi-hard negative miner (Schroff, Kalenichenko & Philbin, "FaceNet",
// CVPR 2015). On the Euclidean distance d between L2-normalised embeddings,
// for every positive pair (a, p) the semi-hard negatives are those with
//   d(a, p) < d(a, n) < d(a, p) + margin
// (farther than the positive, yet inside the margin); the miner keeps the
// hardest of them (smallest d(a, n), the lowest index on a tie) and emits
// (a, p, n). A pair without a semi-hard negative yields no triplet.
#include <string>

#include "dml/miners/miner.h"

namespace dml::miners {

struct SemiHardParams {
  double margin = 0.2;  // the triplet loss's margin
};

class SemiHardMiner : public Miner {
 public:
  static constexpr const char* kName = "semi_hard";
  explicit SemiHardMiner(SemiHardParams params = {}) : params_(params) {}
  MinedTuples mine(const Tensor& embeddings, const Tensor& labels, Generator& gen) override;
  std::string describe() const override;

 private:
  SemiHardParams params_;
};

}  // namespace dml::miners
