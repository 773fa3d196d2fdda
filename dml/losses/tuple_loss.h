#pragma once
// The losses over a batch's pairs or triplets: every valid one, or a
// miner's. Their forward (every row an anchor) and forward_anchored (some
// rows anchoring, anchored_loss.h) differ only in the tuples and the anchor
// rows, so such a loss writes one function of both, tuple_loss, and this
// base makes the two entry points from it.
#include <cstdint>

#include "dml/losses/anchored_loss.h"
#include "dml/losses/loss.h"
#include "dml/miners/tuples.h"

namespace dml::losses {

// Tuples: miners::Pairs or miners::Triplets (tuples.h's pairs_for /
// triplets_for make them from the labels and the mined tuples).
template <class Tuples>
class TupleBasedLoss : public Loss {
 public:
  Tensor forward(const Tensor& embeddings, const Tensor& labels,
                 const miners::MinedTuples* mined = nullptr) final;
  Tensor forward_anchored(const Tensor& embeddings, const Tensor& labels,
                          const miners::MinedTuples& tuples, int64_t begin, int64_t end) final;

 protected:
  // `name` (the loss's kName) names it in the batch's and the tuples' errors.
  explicit TupleBasedLoss(const char* name) : name_(name) {}
  // The loss on `tuples` of the checked batch (host labels `labels`), their
  // anchors in `rows`.
  virtual Tensor tuple_loss(const Tensor& embeddings, const miners::Labels& labels,
                            const Tuples& tuples, AnchorRows rows) = 0;

 private:
  Tensor on(const Tensor& embeddings, const Tensor& labels, const miners::MinedTuples* mined,
            AnchorRows rows);

  const char* name_;
};

using PairBasedLoss = TupleBasedLoss<miners::Pairs>;
using TripletBasedLoss = TupleBasedLoss<miners::Triplets>;

}  // namespace dml::losses
