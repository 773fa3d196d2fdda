#include "dml/train/trainer.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "dml/data/device_prefetch.h"
#include "dml/data/random_streams.h"
#include "dml/data/shard.h"
#include "dml/train/checkpoint.h"
#include "dml/train/interrupt_hint.h"
#include "dml/train/metrics_log.h"
#include "dml/train/progress.h"
#include "dml/train/rank_agreement.h"
#include "dml/train/rank_sum.h"
#include "dml/train/resume.h"
#include "dml/train/run_directory.h"
#include "dml/train/run_eta.h"
#include "dml/train/run_setup.h"
#include "dml/train/step_runner.h"
#include "engine/atomic_file.h"
#include "engine/distributed/communicator.h"
#include "engine/kill_point.h"
#include "engine/math_mode.h"

namespace dml::train {

namespace {

// The epoch's mean loss, and a smoothed one for the progress line (one noisy
// batch reads worse).
struct EpochLoss {
  double sum = 0, recent = 0;
  int64_t steps = 0;
  void add(double loss) {
    recent = steps == 0 ? loss : 0.9 * recent + 0.1 * loss;
    sum += loss;
    ++steps;
  }
  double mean() const { return steps > 0 ? sum / double(steps) : 0; }
};

// The world, its collectives bounded by distributed.timeout_seconds.
dist::Communicator& world_with_timeout(double seconds) {
  dist::Communicator& ranks = dist::world();
  ranks.set_timeout(seconds);
  return ranks;
}

class Run {
 public:
  Run(const Json& config, const TrainOptions& options);
  Json train();

 private:
  void train_epoch(int64_t epoch);
  StepVerdict run_step(StepRunner& step, const data::Batch& batch);
  bool keep_step(const StepVerdict& verdict, int64_t epoch) const;
  void finish_epoch(int64_t epoch, const Progress& progress, double mean_loss,
                    const data::BatchLoader& loader, int64_t skipped_steps);
  bool evaluates_after(int64_t epochs) const;
  void evaluate_epoch(Json line);
  Json evaluate();
  void save_checkpoint_now();
  std::string checkpoint_path() const { return file("checkpoint.safetensors").string(); }
  std::filesystem::path file(const std::string& name) const { return output_ / name; }
  // Rank 0 writes the run's files; the others write none.
  bool writes() const { return ranks_.rank() == 0; }

  Json config_json_;
  TrainConfig c_;
  dist::Communicator& ranks_;
  std::filesystem::path output_;
  // Rank 0's: what Ctrl-C prints names its checkpoint; the other ranks end
  // silently.
  std::unique_ptr<InterruptHint> interrupt_;
  std::unique_ptr<RunDirectory> dir_;  // rank 0's claim; null on the others
  RunParts parts_;
  MetricsLog log_;
  int64_t epochs_done_ = 0, steps_ = 0;
  RunEta eta_{0, 0};
};

Run::Run(const Json& config, const TrainOptions& options)
    : config_json_(config),
      c_(typed_config(config)),
      ranks_(world_with_timeout(c_.distributed.timeout_seconds)),
      output_(c_.run.output),
      interrupt_(writes() ? std::make_unique<InterruptHint>(options.resume_command) : nullptr),
      dir_(writes()
               ? std::make_unique<RunDirectory>(c_.run.output, options.overwrite, options.resume)
               : nullptr),
      parts_(set_up_run(c_, config_json_, options.extension)),
      log_(writes() ? file("metrics.jsonl") : std::filesystem::path()) {
  if (!options.resume.empty()) {
    const ResumePoint at = resume_run(options.resume, config_json_, c_, parts_);
    epochs_done_ = at.epochs_done;
    steps_ = at.steps;
    if (epochs_done_ > 0 && interrupt_) interrupt_->checkpoint_kept(options.resume, epochs_done_);
    log_.continue_from(std::filesystem::path(options.resume).parent_path() / "metrics.jsonl",
                       epochs_done_);
  }
  // Every rank starts from rank 0's weights (a resume loaded them all alike).
  if (parts_.reducer) parts_.reducer->broadcast_parameters(0);
  // Every check passed: the run starts, and only now replaces another's files.
  if (writes()) {
    dir_->start();
    write_file_atomically(file("config.json").string(), config_json_.dump(2) + "\n");
    write_file_atomically(file("names.json").string(), parts_.names.dump(2) + "\n");
  }
  if (!options.resume.empty()) log_.write();
  print_run(parts_, c_);
  if (epochs_done_ > 0)
    std::printf("resumed from %s after epoch %lld (step %lld)\n", options.resume.c_str(),
                (long long)epochs_done_, (long long)steps_);
  std::fflush(stdout);
}

void Run::train_epoch(int64_t epoch) {
  // Every rank draws the epoch's global batches and loads its shard of each.
  std::vector<std::vector<int64_t>> batches = parts_.sampler->epoch(epoch);
  batches.resize(size_t(parts_.steps_per_epoch));
  const data::Shard rows = data::shard_of(c_.run.batch_size, ranks_.rank(), ranks_.size());
  if (ranks_.size() > 1)
    for (std::vector<int64_t>& batch : batches)
      batch = std::vector<int64_t>(batch.begin() + rows.begin, batch.begin() + rows.end);
  data::BatchLoader loader(parts_.train_set, std::move(batches), parts_.train_loader,
                           {.workers = c_.run.workers,
                            .seed = uint64_t(c_.run.seed),
                            .epoch = epoch,
                            .sample_offset = rows.begin,
                            .bad_samples = c_.data.skip_bad_images ? data::BadSamplePolicy::skip
                                                                   : data::BadSamplePolicy::error});
  parts_.model->train();
  if (parts_.extension) parts_.extension->train(true);
  Generator miner_gen(
      data::stream_seed(uint64_t(c_.run.seed), data::Stream::miner, {uint64_t(epoch)}));
  Progress progress("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(c_.run.epochs),
                    loader.size(), c_.run.log_every);
  EpochLoss loss;
  int64_t skipped_steps = 0;
  {
    data::DevicePrefetch on_device(loader, c_.run.device);
    StepRunner step(parts_, c_, miner_gen, on_device);
    while (auto batch = on_device.next()) {
      if (parts_.schedule) parts_.schedule->apply(*parts_.optimizer, steps_);
      const StepVerdict verdict = run_step(step, *batch);
      ++steps_;
      if (keep_step(verdict, epoch)) {
        step.commit();
        kill_point("step");
        loss.add(verdict.loss);
      } else {
        ++skipped_steps;
      }
      char detail[64];
      std::snprintf(detail, sizeof detail, "loss %.4f, run ETA %s", loss.recent,
                    clock_text(eta_.seconds_left(progress.done() + 1, progress.seconds())).c_str());
      // The global batch's images (a rank loads its shard of them).
      progress.advance(1, ranks_.size() > 1 ? c_.run.batch_size : batch->images.size(0), detail);
    }
  }  // a captured step's memory back to the caching allocator before evaluation
  progress.finish();
  eta_.steps_done(progress.done(), progress.seconds());
  finish_epoch(epoch, progress, loss.mean(), loader, skipped_steps);
}

// On several ranks a step's collectives fail when a rank is lost or hung;
// the error then says which checkpoint the job keeps and how to resume.
StepVerdict Run::run_step(StepRunner& step, const data::Batch& batch) {
  if (ranks_.size() == 1) return step.run(batch, steps_);
  try {
    return step.run(batch, steps_);
  } catch (const std::exception& e) {
    throw Error(detail::concat(
        e.what(), "; ",
        epochs_done_ > 0
            ? "the checkpoint of epoch " + std::to_string(epochs_done_) + " is kept (" +
                  checkpoint_path() + "): resume with mpirun -n " + std::to_string(ranks_.size()) +
                  " dml train --resume " + checkpoint_path()
            : std::string("no checkpoint was written yet")));
  }
}

// A non-finite loss or gradient never reaches the weights: the update
// skipped itself, and the step is counted as skipped, or the run ends with
// the last good checkpoint.
bool Run::keep_step(const StepVerdict& verdict, int64_t epoch) const {
  const char* bad = verdict.failure();
  if (!bad) return true;
  DML_CHECK(c_.run.skip_nonfinite_steps, "train: non-finite ", bad, " (loss ", verdict.loss,
            ") at epoch ", epoch + 1, ", step ", steps_, "; nothing of this epoch was saved, ",
            epochs_done_ > 0 ? "the last good checkpoint " + checkpoint_path() + " (epoch " +
                                   std::to_string(epochs_done_) + ") is kept"
                             : std::string("no checkpoint was written yet"),
            "; lower optimizer.lr, check the loss parameters, or set ",
            "train.skip_nonfinite_steps=true to skip such steps");
  return false;
}

// The epoch's log line, then its checkpoint, then its evaluation when one is
// due: a failed evaluation loses none of the epoch's training. The line says
// "evaluation" while the evaluation is pending or after it failed; a run
// resumed from that checkpoint evaluates the epoch first (train()).
void Run::finish_epoch(int64_t epoch, const Progress& progress, double mean_loss,
                       const data::BatchLoader& loader, int64_t skipped_steps) {
  Json line = {{"epoch", epoch + 1},
               {"steps", steps_},
               {"loss", mean_loss},
               {"images_per_second", progress.images_per_second()},
               {"seconds", progress.seconds()},
               {"lr", parts_.optimizer->groups()[0].lr},
               {"skipped_images", sum_over_ranks(ranks_, loader.skipped())},
               {"skipped_steps", skipped_steps}};
  if (skipped_steps > 0)
    std::printf("epoch %lld: skipped %lld of %lld steps (non-finite loss or gradient)\n",
                (long long)epoch + 1, (long long)skipped_steps, (long long)loader.size());
  const bool evaluates = evaluates_after(epoch + 1);
  if (evaluates) line["evaluation"] = "pending";
  log_.record(line);
  epochs_done_ = epoch + 1;
  save_checkpoint_now();
  if (evaluates) evaluate_epoch(std::move(line));
}

bool Run::evaluates_after(int64_t epochs) const {
  return epochs == c_.run.epochs || (c_.run.eval_every > 0 && epochs % c_.run.eval_every == 0);
}

// Records the evaluation's metrics in the epoch's line; a failure is
// recorded there too, and ends the run saying how to resume it.
void Run::evaluate_epoch(Json line) {
  Json metrics;
  const auto start = std::chrono::steady_clock::now();
  try {
    metrics = evaluate();
  } catch (const std::exception& e) {
    line["evaluation"] = std::string("failed: ") + e.what();
    log_.record(line);
    throw Error(detail::concat(e.what(), "; the checkpoint of epoch ", epochs_done_, " is saved (",
                               checkpoint_path(), "): fix the cause, then resume with dml train ",
                               "--resume ", checkpoint_path(), ", which evaluates it first"));
  }
  eta_.evaluation_done(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  line.erase("evaluation");
  std::printf("epoch %lld:", (long long)epochs_done_);
  for (const auto& [k, v] : metrics.items()) {
    std::printf(" %s %.4f", k.c_str(), v.get<double>());
    line[k] = v;
  }
  std::printf("\n");
  log_.record(line);
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
  // Rank 0 saves its state as every rank's: check that it is.
  check_ranks_agree(ranks_, parts_.optimizer->parameters(), "parameters");
  if (parts_.memory)
    check_ranks_agree(ranks_, {parts_.memory->embeddings(), parts_.memory->labels()},
                      "cross-batch memory");
  if (!writes()) return;
  interrupt_->checkpoint_coming(checkpoint_path(), epochs_done_);
  save_checkpoint(checkpoint_path(),
                  {.model = parts_.model->state_dict(),
                   .loss = parts_.loss->named_parameters(),
                   .optimizer = parts_.optimizer->state(),
                   .extension = parts_.extension ? parts_.extension->state_dict() : NamedTensors{},
                   .memory = parts_.memory ? parts_.memory->state_dict() : NamedTensors{},
                   .epochs_done = epochs_done_,
                   .steps = steps_,
                   .world_size = ranks_.size(),
                   .global_batch_size = c_.run.batch_size,
                   .rng = default_generator().state(),
                   .config = config_json_,
                   .names = parts_.names});
  interrupt_->checkpoint_kept(checkpoint_path(), epochs_done_);
}

Json Run::train() {
  // train.precision tf32 holds for this run only (the switch is global).
  AllowTf32Scope tf32(c_.run.precision == Precision::tf32);
  const Json last = log_.last();
  bool evaluate_again = last.contains("evaluation") && last["epoch"] == epochs_done_;
  // Rank 0's log decides: the ranks evaluate together.
  if (ranks_.size() > 1) evaluate_again = ranks_.all_gather_value(evaluate_again)[0] != 0;
  int64_t evaluations = evaluate_again;
  for (int64_t epochs = epochs_done_ + 1; epochs <= c_.run.epochs; ++epochs)
    evaluations += evaluates_after(epochs);
  eta_ = RunEta((c_.run.epochs - epochs_done_) * parts_.steps_per_epoch, evaluations);
  if (evaluate_again) {
    std::printf("epoch %lld: its evaluation did not finish; evaluating it again\n",
                (long long)epochs_done_);
    evaluate_epoch(last);
  }
  for (int64_t epoch = epochs_done_; epoch < c_.run.epochs; ++epoch) train_epoch(epoch);
  const std::string model = file("model.safetensors").string();
  if (writes()) {
    save_exported_model(model, parts_.model->state_dict(), config_json_, parts_.names);
    std::printf("wrote %s and %s\n", checkpoint_path().c_str(), model.c_str());
  }
  return log_.last();
}

}  // namespace

Json run_training(const Json& resolved_config, const TrainOptions& options) {
  Run run(resolved_config, options);
  return run.train();
}

}  // namespace dml::train
