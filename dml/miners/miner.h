#pragma once
// A miner picks, from one batch, the pairs or triplets a loss should look at.
// Miners run without gradients on the batch embeddings and return indices
// into the batch; the loss then computes its terms on those tuples only.
#include <memory>
#include <string>
#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace dml::miners {

// Indices into the batch, all i64 [count]. A pair miner fills the positive
// pairs (pos_anchor[i], positive[i]) and negative pairs (neg_anchor[j],
// negative[j]); a triplet miner fills anchor/positive/negative. Empty tensors
// ([0]) mean "none found", which every loss must handle (loss 0, no NaN).
struct MinedTuples {
  enum class Kind { pairs, triplets };
  Kind kind = Kind::pairs;
  Tensor pos_anchor, positive, neg_anchor, negative;  // pairs
  Tensor anchor, triplet_positive, triplet_negative;  // triplets
};

class Miner {
 public:
  virtual ~Miner() = default;
  // embeddings f32/f64 [B, D], labels i64 [B]. Never records autograd history.
  virtual MinedTuples mine(const Tensor& embeddings, const Tensor& labels, Generator& gen) = 0;
  virtual std::string describe() const = 0;
};

}  // namespace dml::miners
