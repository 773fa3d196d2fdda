#pragma once
// train.cuda_graph: a whole training step (forward, loss, backward, the
// non-finite check and the optimizer's update) captured in a CUDA graph
// (engine/cuda_graph.h) on one batch and replayed for every later batch of
// the same shapes, each copied first into the step's fixed input tensors.
// The host then queues one launch per step instead of hundreds of kernels.
// Schedules and skipped steps work as without the graph: the caller stages
// the optimizer's coefficients before each replay and commits the step once
// it has read the verdict (Optimizer::stage_step, commit_step).
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

// What a step leaves on the device: the loss and the non-finite flag (one
// f32, nonzero when the loss or a gradient was NaN or infinite).
struct StepOutput {
  Tensor loss, nonfinite;
};

class StepGraph {
 public:
  // The step of images [B, C, H, W] and labels [B] (both on the device).
  using Work = std::function<StepOutput(const Tensor& images, const Tensor& labels)>;

  // Captures `work` on copies of this batch's images and labels.
  StepGraph(const data::Batch& batch, Device device, Generator& gen, const Work& work);
  // True when the batch has the captured batch's shapes.
  bool fits(const data::Batch& batch) const;
  // Copies the batch into the fixed inputs and queues the recorded step;
  // returns its outputs (their values once the device has run it).
  StepOutput replay(const data::Batch& batch);

 private:
  Tensor images_, labels_;
  StepOutput outputs_;
  CudaGraph graph_;
};

}  // namespace dml::train
