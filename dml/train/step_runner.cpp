#include "dml/train/step_runner.h"

#include <cmath>
#include <utility>

#include "engine/autocast.h"
#include "engine/autograd.h"
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

StepRunner::StepRunner(RunParts& parts, const RunConfig& run, Generator& miner_gen,
                       data::DevicePrefetch& batches)
    : parts_(parts), run_(run), miner_gen_(miner_gen), batches_(batches) {}

StepVerdict StepRunner::run(const data::Batch& batch) {
  if (graph_ && !graph_->fits(batch)) graph_.reset();
  const bool capture = run_.cuda_graph && (graph_ || eager_steps_ > 0);
  return read_verdict(capture ? captured(batch) : eager(batch));
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
  auto [features, embeddings] = [&] {
    AutocastGuard autocast(run_.precision == Precision::bf16 ? DType::bf16 : DType::f32);
    Tensor f = parts_.model->backbone().forward_features(images);
    return std::pair{f, parts_.model->head()(f)};
  }();
  if (eager) batches_.prefetch();  // before the miner or the loss value waits for the device
  Tensor loss = parts_.miner
                    ? parts_.loss->forward_mined(embeddings, labels, *parts_.miner, miner_gen_)
                    : parts_.loss->forward(embeddings, labels);
  if (parts_.extension)
    loss = loss +
           parts_.extension->loss(features, embeddings, *eager, [](const Tensor& t) { return t; });
  loss.backward();
  return {loss, nonfinite_flag(loss, *parts_.optimizer)};
}

}  // namespace dml::train
