#pragma once
// A DML loss: embeddings [B, D] and class labels i64 [B] to a scalar. Losses
// with learnable state (proxies, the margin loss's beta) own it as named
// parameters; the trainer puts them in an optimizer group of their own
// ("loss") with their own learning rate, and checkpoints them by name.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dml/miners/miner.h"
#include "engine/rng.h"
#include "engine/tensor.h"

namespace dml::losses {

// What a loss needs to size its parameters.
struct LossContext {
  int64_t num_classes = 0;    // training classes (proxy losses need them)
  int64_t embedding_dim = 0;  // D
  Generator* gen = nullptr;   // initialises proxies; may be null for parameter-free losses
};

class Loss {
 public:
  virtual ~Loss() = default;
  Loss() = default;
  Loss(const Loss&) = delete;
  Loss& operator=(const Loss&) = delete;

  // mined: tuples from a miner, or null to use every valid tuple in the batch.
  // Losses that cannot use mined tuples (proxy and classification losses)
  // ignore them.
  virtual Tensor forward(const Tensor& embeddings, const Tensor& labels,
                         const miners::MinedTuples* mined = nullptr) = 0;
  virtual std::string describe() const = 0;
  // The loss on the tuples `miner` finds in the batch (drawing from gen):
  // forward(embeddings, labels, &mined). A loss with a fused kernel for this
  // miner runs it instead, drawing the same tuples from the same generator
  // state and giving the same value (the margin loss with the
  // distance-weighted miner: dml/losses/fused_margin.h).
  virtual Tensor forward_mined(const Tensor& embeddings, const Tensor& labels, miners::Miner& miner,
                               Generator& gen);

  // Whether the loss learns from pairs or triplets of the batch; false for
  // the proxy and classification losses, whose value is over the rows alone.
  virtual bool uses_tuples() const { return true; }
  // Whether the loss can learn from the tuples anchored in some rows of the
  // batch, the others being candidates only (dml/losses/anchored_loss.h).
  // False where the other rows would not act as candidates: N-pair's
  // negatives are the positives of the anchors' own pairs.
  virtual bool takes_anchor_rows() const { return true; }
  // The loss on `tuples`, all anchored in rows [begin, end) of the batch:
  // forward(embeddings, labels, &tuples), except in a loss that averages or
  // regularises over the batch's rows, which takes the anchor rows for them.
  // The pair and triplet losses compute their matrices for the anchor rows
  // alone ([rows, B], not [B, B]: a batch against a large memory).
  virtual Tensor forward_anchored(const Tensor& embeddings, const Tensor& labels,
                                  const miners::MinedTuples& tuples, int64_t begin, int64_t end);

  // Learnable state, by name ("proxies", "beta"); empty for most losses.
  const NamedTensors& named_parameters() const { return params_; }
  std::vector<Tensor> parameters() const;
  // Moves the learnable state to `device` in place (optimizer handles follow).
  void to(Device device);
  // Learning-rate multiplier the loss's papers use for its parameters
  // relative to the model's (proxy-anchor: 100); the config may override it.
  virtual double default_lr_multiplier() const { return 1.0; }

 protected:
  Tensor register_parameter(const std::string& name, Tensor t);

 private:
  NamedTensors params_;
};

}  // namespace dml::losses
