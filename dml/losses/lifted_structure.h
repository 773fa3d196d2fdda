#pragma once
// Generalised lifted structure loss (Hermans, Beyer & Leibe, "In Defense of
// the Triplet Loss for Person Re-Identification", 2017, after Oh Song et al.
// 2016): on the Euclidean distance d between L2-normalised embeddings, for
// each anchor i with positive set P_i and negative set N_i,
//   l_i = [ log sum_{p in P_i} exp(d(i, p)) + log sum_{n in N_i} exp(margin - d(i, n)) ]_+
//   L = mean of l_i over the anchors that have both a positive and a negative
// (0 when none has). Without a miner P_i and N_i hold every pair of the batch.
// A pair mined twice counts once.
#include <string>

#include "dml/losses/anchored_loss.h"
#include "dml/losses/tuple_loss.h"
#include "dml/miners/tuples.h"

namespace dml::losses {

struct LiftedStructureParams {
  double margin = 1.0;
};

class LiftedStructureLoss : public PairBasedLoss {
 public:
  static constexpr const char* kName = "lifted_structure";
  explicit LiftedStructureLoss(LiftedStructureParams params = {})
      : PairBasedLoss(kName), params_(params) {}
  std::string describe() const override;

 private:
  // The loss on `pairs` (of the checked batch), anchored in `rows`.
  Tensor tuple_loss(const Tensor& embeddings, const miners::Labels& labels,
                    const miners::Pairs& pairs, AnchorRows rows) override;

  LiftedStructureParams params_;
};

}  // namespace dml::losses
