#pragma once
// Batches on the training device, one ahead. A GPU step reads its first
// result back on the host early (the miner's distances, the loss value);
// whatever the host does after that read and before it queues the next
// forward is time the device waits. So the trainer calls prefetch() right
// after queueing a step's forward: the next batch is taken from the loader
// and its images copied to the device (staged through pinned buffers while
// the forward runs, kernels/cuda_runtime/pinned_staging.h) before the host blocks.
// On the CPU the copy is a no-op and the batches are the loader's.
#include <optional>

#include "dml/data/batch_loader.h"

namespace dml::data {

class DevicePrefetch {
 public:
  DevicePrefetch(BatchLoader& loader, Device device) : loader_(loader), device_(device) {}

  // The prefetched batch, else the loader's next one copied now; nullopt
  // after the last. Batch::images is on the device, labels and attributes
  // stay on the CPU (the miners and losses read them there).
  std::optional<Batch> next();
  // Takes the following batch from the loader and queues its copy, once;
  // the next call of next() returns it. Rethrows the loader's errors.
  void prefetch();

 private:
  std::optional<Batch> load();

  BatchLoader& loader_;
  Device device_;
  std::optional<Batch> staged_;
  bool prefetched_ = false;  // staged_ holds the following batch (or its absence)
};

}  // namespace dml::data
