#pragma once
// One training step of an epoch, eager or captured (train.cuda_graph), and
// its verdict. A step's device work is queued whole before the host reads
// anything: forward, loss, backward, the non-finite flag, and the
// optimizer's update, which skips itself on the device when the flag is set.
// The host then reads the verdict, once, and commits the step
// (Optimizer::commit_step) only when it is good.
//
// With train.cuda_graph the epoch's first step runs eagerly (cuDNN's
// algorithms chosen, the optimizer's state and coefficient buffers
// allocated), the second is captured with this epoch's draws (step_graph.h)
// and replayed from then on, the optimizer's update included: before each
// replay the host stages its coefficients (learning rate, bias corrections).
// A batch of other shapes (the epoch's last, say) is captured anew.
//
// On several ranks each runs the step on its shard of the global batch: the
// embeddings are gathered (dist::all_gather_with_grad), so the loss sees
// every rank's rows; distributed.objective global takes every row as an
// anchor, local this rank's own. Each rank's loss is scaled by 1 / ranks
// and its backward runs under the gradient reducer, whose sums are then one
// process's gradients on the whole batch, the same on every rank, as is the
// verdict's loss (the global loss, or the mean of the ranks' local losses).
// With distributed.sync_batch_norm, batch norm in training normalises with
// the global batch's statistics (engine/batch_norm_sync.h) in the forward
// and backward. One process runs none of this: no gather, no scaling, no
// synchronised batch norm.
//
// With the cross-batch memory (loss.xbm_size), from step loss.xbm_start_step
// the memory's rows join the candidates of the batch's anchors, and a
// committed step enqueues the gathered batch (the same rows on every rank).
#include <memory>
#include <optional>

#include "dml/data/device_prefetch.h"
#include "dml/losses/anchored_loss.h"
#include "dml/train/run_setup.h"
#include "dml/train/step_graph.h"

namespace dml::train {

// What the host reads back from a step: the loss value and whether it and
// every gradient were finite.
struct StepVerdict {
  double loss;
  bool finite;
  // "loss" or "gradient" when the step is not finite, else null. The loss is
  // checked with the gradients: a non-finite loss is caught even where its
  // gradients came out finite.
  const char* failure() const;
};

class StepRunner {
 public:
  // One epoch's steps on `parts` (model, loss, miner, extension, optimizer).
  // The miner draws from `miner_gen`, which must outlive the runner (a
  // captured step holds it); `batches` is prefetched while a step runs.
  StepRunner(RunParts& parts, const TrainConfig& config, Generator& miner_gen,
             data::DevicePrefetch& batches);

  // Queues step number `step` (of the run) on `batch` (on the device) and
  // reads its verdict. The caller applies the lr schedule before, and
  // commits a good step after.
  StepVerdict run(const data::Batch& batch, int64_t step);
  // The step's update stands (Optimizer::commit_step), and its batch joins
  // the cross-batch memory.
  void commit();

 private:
  StepOutput eager(const data::Batch& batch);
  StepOutput captured(const data::Batch& batch);
  StepOutput forward_backward(const Tensor& images, const Tensor& labels, const data::Batch* eager);
  Tensor class_loss(const Tensor& embeddings, const Tensor& labels, losses::AnchorRows anchors);
  Tensor loss_value(const Tensor& loss) const;
  void backward(const Tensor& loss);

  RunParts& parts_;
  const TrainConfig& config_;
  const RunConfig& run_;
  Generator& miner_gen_;
  data::DevicePrefetch& batches_;
  std::unique_ptr<StepGraph> graph_;
  int64_t eager_steps_ = 0, step_ = 0;
  // The step's gathered batch, for the memory once the step is committed.
  std::optional<std::pair<Tensor, Tensor>> memory_rows_;
};

}  // namespace dml::train
