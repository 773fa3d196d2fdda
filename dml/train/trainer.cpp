#include "dml/train/trainer.h"

#include <cstdio>
#include <filesystem>

#include "dml/data/device_prefetch.h"
#include "dml/data/random_streams.h"
#include "dml/train/checkpoint.h"
#include "dml/train/metrics_log.h"
#include "dml/train/progress.h"
#include "dml/train/resume.h"
#include "dml/train/run_setup.h"
#include "dml/train/step_runner.h"
#include "engine/atomic_file.h"
#include "engine/kill_point.h"
#include "engine/math_mode.h"

namespace dml::train {

namespace {

class Run {
 public:
  Run(const Json& config, const TrainOptions& options);
  Json train();

 private:
  void train_epoch(int64_t epoch);
  bool keep_step(const StepVerdict& verdict, int64_t epoch) const;
  void finish_epoch(int64_t epoch, Progress& progress, const data::BatchLoader& loader,
                    int64_t skipped_steps);
  Json evaluate();
  void save_checkpoint_now();

  Json config_json_;
  TrainConfig c_;
  std::filesystem::path out_;
  RunParts parts_;
  MetricsLog log_;
  int64_t epochs_done_ = 0, steps_ = 0;
};

Run::Run(const Json& config, const TrainOptions& options)
    : config_json_(config),
      c_(typed_config(config)),
      out_(c_.run.output),
      parts_(set_up_run(c_, config_json_, options.extension)),
      log_(out_ / "metrics.jsonl") {
  if (!options.resume.empty()) {
    const ResumePoint at = resume_run(options.resume, config_json_, c_, parts_);
    epochs_done_ = at.epochs_done;
    steps_ = at.steps;
  }
  write_file_atomically((out_ / "config.json").string(), config_json_.dump(2) + "\n");
  write_file_atomically((out_ / "names.json").string(), parts_.names.dump(2) + "\n");
  if (options.resume.empty())
    log_.start_fresh();
  else
    log_.continue_after(epochs_done_);
  print_run(parts_, c_);
  if (epochs_done_ > 0)
    std::printf("resumed from %s after epoch %lld (step %lld)\n", options.resume.c_str(),
                (long long)epochs_done_, (long long)steps_);
  std::fflush(stdout);
}

void Run::train_epoch(int64_t epoch) {
  std::vector<std::vector<int64_t>> batches = parts_.sampler->epoch(epoch);
  batches.resize(size_t(parts_.steps_per_epoch));
  data::BatchLoader loader(parts_.train_set, std::move(batches), parts_.train_loader,
                           {.workers = c_.run.workers,
                            .seed = uint64_t(c_.run.seed),
                            .epoch = epoch,
                            .bad_samples = c_.data.skip_bad_images ? data::BadSamplePolicy::skip
                                                                   : data::BadSamplePolicy::error});
  parts_.model->train();
  if (parts_.extension) parts_.extension->train(true);
  Generator miner_gen(
      data::stream_seed(uint64_t(c_.run.seed), data::Stream::miner, {uint64_t(epoch)}));
  Progress progress(epoch + 1, c_.run.epochs, loader.size(), c_.run.log_every);
  int64_t skipped_steps = 0;
  {
    data::DevicePrefetch on_device(loader, c_.run.device);
    StepRunner step(parts_, c_.run, miner_gen, on_device);
    while (auto batch = on_device.next()) {
      if (parts_.schedule) parts_.schedule->apply(*parts_.optimizer, steps_);
      const StepVerdict verdict = step.run(*batch);
      ++steps_;
      if (!keep_step(verdict, epoch)) {
        ++skipped_steps;
        continue;
      }
      parts_.optimizer->commit_step();
      kill_point("step");
      progress.update(verdict.loss, batch->images.size(0));
    }
  }  // a captured step's memory back to the caching allocator before evaluation
  finish_epoch(epoch, progress, loader, skipped_steps);
}

// A non-finite loss or gradient never reaches the weights: the update
// skipped itself, and the step is counted as skipped, or the run ends with
// the last good checkpoint.
bool Run::keep_step(const StepVerdict& verdict, int64_t epoch) const {
  const char* bad = verdict.failure();
  if (!bad) return true;
  DML_CHECK(c_.run.skip_nonfinite_steps, "train: non-finite ", bad, " (loss ", verdict.loss,
            ") at epoch ", epoch + 1, ", step ", steps_, "; nothing of this epoch was saved, ",
            epochs_done_ > 0
                ? "the last good checkpoint " + (out_ / "checkpoint.safetensors").string() +
                      " (epoch " + std::to_string(epochs_done_) + ") is kept"
                : std::string("no checkpoint was written yet"),
            "; lower optimizer.lr, check the loss parameters, or set ",
            "train.skip_nonfinite_steps=true to skip such steps");
  return false;
}

// The epoch's log line, with the evaluation's metrics when one is due, then
// its checkpoint.
void Run::finish_epoch(int64_t epoch, Progress& progress, const data::BatchLoader& loader,
                       int64_t skipped_steps) {
  const double mean_loss = progress.finish();
  Json line = {{"epoch", epoch + 1},
               {"steps", steps_},
               {"loss", mean_loss},
               {"images_per_second", progress.images_per_second()},
               {"seconds", progress.seconds()},
               {"lr", parts_.optimizer->groups()[0].lr},
               {"skipped_images", loader.skipped()},
               {"skipped_steps", skipped_steps}};
  if (skipped_steps > 0)
    std::printf("epoch %lld: skipped %lld of %lld steps (non-finite loss or gradient)\n",
                (long long)epoch + 1, (long long)skipped_steps, (long long)loader.size());
  const bool last = epoch + 1 == c_.run.epochs;
  if (last || (c_.run.eval_every > 0 && (epoch + 1) % c_.run.eval_every == 0)) {
    Json metrics = evaluate();
    std::printf("epoch %lld:", (long long)epoch + 1);
    for (const auto& [k, v] : metrics.items()) {
      std::printf(" %s %.4f", k.c_str(), v.get<double>());
      line[k] = v;
    }
    std::printf("\n");
  }
  log_.append(line);
  epochs_done_ = epoch + 1;
  save_checkpoint_now();
}

Json Run::evaluate() {
  Json out = Json::object();
  Embedded queries;
  const eval::RetrievalReport report = evaluate_model(*parts_.model, c_, parts_.held_out, &queries);
  for (const auto& [name, value] : report.metrics) out[name] = value;
  if (parts_.extension) out.update(parts_.extension->evaluate(queries, report));
  return out;
}

void Run::save_checkpoint_now() {
  save_checkpoint((out_ / "checkpoint.safetensors").string(),
                  {.model = parts_.model->state_dict(),
                   .loss = parts_.loss->named_parameters(),
                   .optimizer = parts_.optimizer->state(),
                   .extension = parts_.extension ? parts_.extension->state_dict() : NamedTensors{},
                   .epochs_done = epochs_done_,
                   .steps = steps_,
                   .rng = default_generator().state(),
                   .config = config_json_,
                   .names = parts_.names});
}

Json Run::train() {
  // train.precision tf32 holds for this run only (the switch is global).
  AllowTf32Scope tf32(c_.run.precision == Precision::tf32);
  for (int64_t epoch = epochs_done_; epoch < c_.run.epochs; ++epoch) train_epoch(epoch);
  save_exported_model((out_ / "model.safetensors").string(), parts_.model->state_dict(),
                      config_json_, parts_.names);
  std::printf("wrote %s and %s\n", (out_ / "checkpoint.safetensors").c_str(),
              (out_ / "model.safetensors").c_str());
  return log_.last();
}

}  // namespace

Json run_training(const Json& resolved_config, const TrainOptions& options) {
  Run run(resolved_config, options);
  return run.train();
}

}  // namespace dml::train
