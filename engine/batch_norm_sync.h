#pragma once
// Synchronised batch norm's link to the ranks of a data-parallel job,
// without a dependency on how they communicate (dml_engine links no MPI):
// while a BatchNormSync is installed on the thread, batch_norm2d and
// batch_norm2d_relu in training sum their per-channel statistics in the
// forward, and the sums their input's gradient needs in the backward, over
// the ranks through it, so each rank normalises with the global batch's
// statistics and gets the gradient one process gets on the whole batch.
// The parameters' gradients stay this rank's (the gradient reducer sums
// them). Every rank runs every batch norm layer, so every rank calls sum()
// equally often and in the same order, as collectives must be called.
#include "engine/scoped_value.h"
#include "engine/tensor.h"

namespace dml {

class BatchNormSync {
 public:
  virtual ~BatchNormSync() = default;
  // Sums `t` over the ranks, in place (same shape, dtype and device on every
  // rank).
  virtual void sum(Tensor& t) = 0;
};

// The BatchNormSync installed on this thread; null when none is.
BatchNormSync* installed_batch_norm_sync();

// Installs `sync` (null: none) for a scope. A forward that synchronised
// needs the same one installed when its backward runs.
class BatchNormSyncScope {
 public:
  explicit BatchNormSyncScope(BatchNormSync* sync);

 private:
  ScopedValue<BatchNormSync*> sync_;
};

}  // namespace dml
