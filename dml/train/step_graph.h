#pragma once
// train.cuda_graph: a training step's forward, loss and backward captured in a
// CUDA graph (engine/cuda_graph.h) on one batch and replayed for every later
// batch of the same shapes, each copied first into the step's fixed input
// tensors. The host then queues one launch per step instead of hundreds of
// kernels; the optimizer step stays eager (a few multi-tensor launches), so
// schedules and skipped steps work as without the graph.
//
// The replays write the gradients the capture created: the caller must not
// clear them (zero_grad) while the graph lives. Draws inside the step come
// from the generator given at capture; it must outlive the graph.
#include <functional>

#include "dml/data/batch_loader.h"
#include "engine/cuda_graph.h"
#include "engine/rng.h"
#include "engine/tensor.h"

namespace dml::train {

class StepGraph {
 public:
  // Forward, loss and backward of images [B, C, H, W] and labels [B] (both
  // on the device); returns the loss.
  using Work = std::function<Tensor(const Tensor& images, const Tensor& labels)>;

  // Captures `work` on copies of this batch's images and labels.
  StepGraph(const data::Batch& batch, Device device, Generator& gen, const Work& work);
  // True when the batch has the captured batch's shapes.
  bool fits(const data::Batch& batch) const;
  // Copies the batch into the fixed inputs and queues the recorded step;
  // returns the loss tensor (its value once the device has run the step).
  Tensor replay(const data::Batch& batch);

 private:
  Tensor images_, labels_, loss_;
  CudaGraph graph_;
};

}  // namespace dml::train
