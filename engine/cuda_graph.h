#pragma once
// A piece of work on one CUDA device (a training step's forward and backward)
// captured once as a CUDA graph and replayed with one launch: the host
// queues hundreds of kernels once instead of every step. The recorded work
// must have fixed shapes and read its inputs from tensors that stay put
// (copy each new batch into them before a replay); the host code of the
// work runs only at capture, so nothing of it may depend on a replay's
// values. Tensors created while capturing (activations, gradients, the loss)
// live in a private memory pool that no other work is given while the graph
// lives, and hold each replay's results.
//
// Refused while capturing, with an error naming the operation: reading the
// device (item(), copies to the host, the index ops' bounds check), uploads
// and random fills with host-side counters. Draws that change per replay
// come from the generator passed to capture(): the captured kernels add a
// device counter that every replay advances, and the generator advances on
// the host as if the work had run eagerly (fused_distance_weighted_margin_loss
// draws this way); nothing else may draw from that generator between
// replays (replay() refuses: the device counter would repeat those numbers).
//
// An optimizer's update is captured with launch_step() after one eager
// step has made its state; its coefficients are staged before each replay
// (engine/optim/optimizer.h):
//
//   CudaGraph graph(Device::cuda(0));
//   graph.capture([&] { loss = step(images, labels); loss.backward(); opt.launch_step(); }, &gen);
//   for (...) {
//     copy_into(images, next_batch());
//     opt.stage_step();
//     graph.replay();
//     opt.commit_step();
//   }
#include <functional>

#include "engine/device.h"
#include "engine/rng.h"
#include "engine/tensor.h"

namespace dml {

class CudaGraph {
 public:
  // Throws for a non-CUDA device or a build without CUDA.
  explicit CudaGraph(Device device);
  ~CudaGraph();
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  // Records what `work` queues on the device. `draws`, when given, is the
  // one generator the work may draw from; it must outlive the graph. Once.
  void capture(const std::function<void()>& work, Generator* draws = nullptr);
  // Queues the recorded work again (returns before it runs, as any launch).
  void replay();

 private:
  Device device_;
  int pool_ = 0;
  void* exec_ = nullptr;  // cudaGraphExec_t
  Tensor counter_;        // i64 [1] on the device: the draws' base
  Generator* draws_ = nullptr;
  uint64_t draws_per_replay_ = 0;
  uint64_t next_draw_ = 0;  // the generator's offset the next replay expects
};

// True while `device` is being captured (by any thread: work queued on its
// stream meanwhile would be recorded, not run).
bool graph_capturing(Device device);

// For ops drawing with `gen` on `device`: null when not capturing; while
// capturing, the device counter the kernels add to their counters, after
// checking that `gen` is the capture's generator.
const uint64_t* captured_draw_base(Device device, const Generator& gen);

}  // namespace dml
