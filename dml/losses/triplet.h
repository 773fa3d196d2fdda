#pragma once
// Triplet margin loss (Weinberger & Saul 2009; Schroff et al. 2015, FaceNet):
// on the Euclidean distance d between L2-normalised embeddings,
//   L = mean_{>0} [d(a, p) - d(a, n) + margin]_+
// over the triplets, averaged over the active ones (Hermans et al.'s
// "batch all, non-zero" reduction, PML's AvgNonZeroReducer), 0 when none is
// active or none exists. Without a miner every valid triplet of the batch is
// used; mined pairs give every (a, p, n) whose two pairs were both mined.
#include <string>

#include "dml/losses/anchored_loss.h"
#include "dml/losses/tuple_loss.h"
#include "dml/miners/tuples.h"

namespace dml::losses {

struct TripletParams {
  double margin = 0.2;  // Roth et al. 2020 (PML's default is 0.05)
};

class TripletLoss : public TripletBasedLoss {
 public:
  static constexpr const char* kName = "triplet";
  explicit TripletLoss(TripletParams params = {}) : TripletBasedLoss(kName), params_(params) {}
  std::string describe() const override;

 private:
  // The loss on `triplets` (of the checked batch), anchored in `rows`.
  Tensor tuple_loss(const Tensor& embeddings, const miners::Labels& labels,
                    const miners::Triplets& triplets, AnchorRows rows) override;

  TripletParams params_;
};

}  // namespace dml::losses
