#pragma once
// Cross-batch memory (XBM, Wang et al., CVPR 2020): a first-in first-out
// queue of the last `capacity` embeddings and labels of past (global)
// batches, used as extra candidates for the current batch's anchors once
// the embedding has settled (loss.xbm_start_step). Rows are detached: no
// gradient reaches past batches. Every rank enqueues the same gathered
// batch, so every rank holds the same rows in the same order. The queue is
// part of a checkpoint, so a resumed run continues with the same memory.
#include <cstdint>

#include "engine/tensor.h"

namespace dml::losses {

class CrossBatchMemory {
 public:
  CrossBatchMemory(int64_t capacity, int64_t dim, Device device);

  // Appends the rows of embeddings [B, D] (any floating type, stored as
  // f32) and labels i64 [B], detached and on any device, copying them into
  // place and overwriting the oldest beyond capacity. B > capacity keeps the
  // last rows.
  void enqueue(const Tensor& embeddings, const Tensor& labels);
  // The rows held, oldest first: [count, D] and i64 [count], on the memory's
  // device. Views of the
  // memory's own storage where the rows lie in order (else copies): read
  // them before the next enqueue or load.
  Tensor embeddings() const;
  Tensor labels() const;
  int64_t count() const;
  int64_t capacity() const;

  // "xbm.embeddings" f32 [count, D], "xbm.labels" i64 [count], oldest first,
  // copies of the rows. Loading takes exactly these two tensors and checks
  // names, shapes, types and capacity (naming the tensor) before it changes
  // anything.
  NamedTensors state_dict() const;
  void load_state_dict(const NamedTensors& state);

 private:
  // The rows in place, in a ring: row next_ is the oldest once full.
  Tensor rows_;    // f32 [capacity, D] on the memory's device
  Tensor labels_;  // i64 [capacity], on that device too
  int64_t next_ = 0, count_ = 0;

  int64_t oldest() const { return (next_ + capacity() - count_) % capacity(); }
};

}  // namespace dml::losses
