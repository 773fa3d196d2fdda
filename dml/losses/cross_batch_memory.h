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

  // Appends the rows of embeddings [B, D] and labels i64 [B] (detached),
  // dropping the oldest beyond capacity. B > capacity keeps the last rows.
  void enqueue(const Tensor& embeddings, const Tensor& labels);
  // The rows held, oldest first: [count, D] and i64 [count].
  Tensor embeddings() const;
  Tensor labels() const;
  int64_t count() const;
  int64_t capacity() const;

  // "xbm.embeddings", "xbm.labels" (oldest first, count rows); loading
  // checks shapes and capacity, naming the tensor.
  NamedTensors state_dict() const;
  void load_state_dict(const NamedTensors& state);
};

}  // namespace dml::losses
