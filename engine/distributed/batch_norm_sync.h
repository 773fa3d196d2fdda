#pragma once
// Synchronised batch norm over a job's ranks: the engine's hook
// (engine/batch_norm_sync.h) summing through the communicator, installed by
// data-parallel training around each step's forward and backward.
#include "engine/batch_norm_sync.h"
#include "engine/distributed/communicator.h"

namespace dml::dist {

class CommunicatorBatchNormSync final : public BatchNormSync {
 public:
  explicit CommunicatorBatchNormSync(Communicator& ranks) : ranks_(ranks) {}
  void sum(Tensor& t) override { ranks_.all_reduce_sum(t); }

 private:
  Communicator& ranks_;
};

}  // namespace dml::dist
