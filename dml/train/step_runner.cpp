#include "dml/train/step_runner.h"

#include <cmath>
#include <utility>

#include "engine/autocast.h"
#include "engine/autograd.h"
#include "engine/distributed/batch_norm_sync.h"
#include "engine/distributed/gather.h"
#include "engine/ops.h"
#include "engine/optim/grad_unscale.h"

namespace dml::train {

namespace {

// One flag on the device for a step: 1 when the loss or any gradient is NaN
// or infinite (one multi-tensor check over all of them), else 0. The
// optimizer's update reads it and skips itself, so the step queues its
// update before the host has read anything.
Tensor nonfinite_flag(const Tensor& loss, const Optimizer& optimizer) {
  NoGradGuard no_grad;
  std::vector<Tensor> checked{loss.detach()};
  for (const ParamGroup& group : optimizer.groups())
    for (const Tensor& param : group.params) checked.push_back(param.grad());
  return non_finite_check_and_unscale(checked);
}

// Both values in one read.
StepVerdict read_verdict(const StepOutput& step) {
  NoGradGuard no_grad;
  const Tensor both = stack({step.loss.to(DType::f64), step.nonfinite.to(DType::f64)}, 0);
  const std::vector<double> values = both.to_vector<double>();
  return {values[0], values[1] == 0};
}

}  // namespace

const char* StepVerdict::failure() const {
  return !std::isfinite(loss) ? "loss" : !finite ? "gradient" : nullptr;
}

StepRunner::StepRunner(RunParts& parts, const TrainConfig& config, Generator& miner_gen,
                       data::DevicePrefetch& batches)
    : parts_(parts), config_(config), run_(config.run), miner_gen_(miner_gen), batches_(batches) {}

StepVerdict StepRunner::run(const data::Batch& batch, int64_t step) {
  step_ = step;
  memory_rows_.reset();
  if (graph_ && !graph_->fits(batch)) graph_.reset();
  const bool capture = run_.cuda_graph && (graph_ || eager_steps_ > 0);
  return read_verdict(capture ? captured(batch) : eager(batch));
}

void StepRunner::commit() {
  parts_.optimizer->commit_step();
  if (parts_.memory && memory_rows_)
    parts_.memory->enqueue(memory_rows_->first, memory_rows_->second);
}

StepOutput StepRunner::eager(const data::Batch& batch) {
  Optimizer& optimizer = *parts_.optimizer;
  optimizer.zero_grad();
  const StepOutput step = forward_backward(batch.images, batch.labels, &batch);
  optimizer.stage_step();  // after backward: it stages the parameters that have gradients
  optimizer.launch_step(step.nonfinite);
  ++eager_steps_;
  return step;
}

StepOutput StepRunner::captured(const data::Batch& batch) {
  Optimizer& optimizer = *parts_.optimizer;
  if (!graph_) {
    optimizer.zero_grad();  // the capture's backward creates the gradients the replays write
    graph_ = std::make_unique<StepGraph>(
        batch, run_.device, miner_gen_, [&](const Tensor& images, const Tensor& labels) {
          StepOutput step = forward_backward(images, labels, nullptr);
          optimizer.launch_step(step.nonfinite);
          return step;
        });
  }
  optimizer.stage_step();
  const StepOutput step = graph_->replay(batch);
  batches_.prefetch();
  return step;
}

// model(images) = head(backbone features); the extension reads the features
// too. With train.precision bf16 both run under autocast: the backbone keeps
// bf16 activations inside and returns f32 features, the head's product
// returns f32; the losses compute in f32. `eager`: the batch when the step
// runs now, null while it is captured.
StepOutput StepRunner::forward_backward(const Tensor& images, const Tensor& labels,
                                        const data::Batch* eager) {
  dist::Communicator& ranks = *parts_.ranks;
  const bool several = ranks.size() > 1;
  // Batch norm in training sums its statistics over the ranks in the
  // forward and its input's gradient's sums in the backward, so both run
  // under the hook (frozen batch norm normalises with its running statistics
  // and sums nothing).
  dist::CommunicatorBatchNormSync over_ranks(ranks);
  const BatchNormSyncScope sync_batch_norm(
      several && config_.distributed.sync_batch_norm ? &over_ranks : nullptr);
  auto [features, embeddings] = [&] {
    AutocastGuard autocast(run_.precision == Precision::bf16 ? DType::bf16 : DType::f32);
    Tensor f = parts_.model->backbone().forward_features(images);
    return std::pair{f, parts_.model->head()(f)};
  }();
  if (eager) batches_.prefetch();  // before the miner or the loss value waits for the device
  const RowGather gather = [&ranks, several](const Tensor& rows) {
    return several ? dist::all_gather_with_grad(ranks, rows) : rows;
  };
  std::vector<int64_t> counts{labels.size(0)};
  const Tensor all_labels = several ? ranks.all_gather_rows(labels, &counts) : labels;
  const Tensor all_embeddings = gather(embeddings);
  losses::AnchorRows anchors{0, all_labels.size(0)};
  if (several && config_.distributed.objective == "local") {
    for (int r = 0; r < ranks.rank(); ++r) anchors.begin += counts[size_t(r)];
    anchors.end = anchors.begin + counts[size_t(ranks.rank())];
  }
  Tensor loss = class_loss(all_embeddings, all_labels, anchors);
  if (parts_.extension) loss = loss + parts_.extension->loss(features, embeddings, *eager, gather);
  if (parts_.memory) memory_rows_.emplace(all_embeddings.detach(), all_labels);
  backward(loss);
  const Tensor value = loss_value(loss);
  return {value, nonfinite_flag(value, *parts_.optimizer)};
}

// The loss of the anchors against the batch's rows and, once the memory is
// in use, the memory's. Every row an anchor: the loss as one process has it.
Tensor StepRunner::class_loss(const Tensor& embeddings, const Tensor& labels,
                              losses::AnchorRows anchors) {
  const losses::CrossBatchMemory* memory = parts_.memory.get();
  const bool remembers = memory && step_ >= config_.loss.xbm_start_step && memory->count() > 0;
  if (!remembers && anchors.begin == 0 && anchors.end == embeddings.size(0))
    return parts_.miner ? parts_.loss->forward_mined(embeddings, labels, *parts_.miner, miner_gen_)
                        : parts_.loss->forward(embeddings, labels);
  const Tensor candidates = remembers ? concat({embeddings, memory->embeddings()}, 0) : embeddings;
  const Tensor candidate_labels = remembers ? concat({labels, memory->labels()}, 0) : labels;
  return losses::anchored_loss(*parts_.loss, parts_.miner.get(), candidates, candidate_labels,
                               anchors, miner_gen_);
}

// Each rank's share of the gradient: its loss over 1 / ranks, backward
// under the reducer, whose sums over the ranks are then the whole batch's.
void StepRunner::backward(const Tensor& loss) {
  dist::GradientReducer* reducer = parts_.reducer.get();
  if (!reducer) {
    loss.backward();
    return;
  }
  {
    const std::unique_ptr<LeafGradReadyScope> watching = reducer->watch();
    (loss * (1.0 / double(parts_.ranks->size()))).backward();
  }
  reducer->finish();
}

// The loss the verdict and the log read, the same on every rank: the global
// objective's loss is; the local one's is the mean of the ranks' losses.
Tensor StepRunner::loss_value(const Tensor& loss) const {
  if (!parts_.reducer || config_.distributed.objective != "local") return loss;
  NoGradGuard no_grad;
  Tensor sum = loss.detach().clone();
  parts_.ranks->all_reduce_sum(sum);
  return sum * (1.0 / double(parts_.ranks->size()));
}

}  // namespace dml::train
