#include "dml/train/trainer.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "dml/data/device_prefetch.h"
#include "dml/data/m_per_class_sampler.h"
#include "dml/data/permutation.h"
#include "dml/losses/registry.h"
#include "dml/miners/registry.h"
#include "dml/train/checkpoint.h"
#include "dml/train/datasets.h"
#include "dml/train/evaluation.h"
#include "dml/train/model_factory.h"
#include "dml/train/progress.h"
#include "dml/train/step_graph.h"
#include "engine/atomic_file.h"
#include "engine/autocast.h"
#include "engine/autograd.h"
#include "engine/kill_point.h"
#include "engine/math_mode.h"
#include "engine/ops.h"
#include "engine/optim/grad_unscale.h"
#include "engine/optim/lr_schedule.h"
#include "engine/optim/optimizer.h"

namespace dml::train {

namespace {

// Relabels the training samples 0 .. C-1 (in order of their labels), as
// proxy and classification losses index their parameters by class.
int64_t make_labels_contiguous(data::SampleSet& set) {
  std::map<int64_t, int64_t> index;
  for (const auto& s : set.samples) index.emplace(s.label, 0);
  int64_t next = 0;
  for (auto& [label, i] : index) i = next++;
  for (auto& s : set.samples) s.label = index[s.label];
  return next;
}

std::unique_ptr<Optimizer> make_optimizer(const OptimConfig& o, std::vector<ParamGroup> groups) {
  if (o.name == "sgd")
    return std::make_unique<SGD>(std::move(groups), SgdOptions{.momentum = o.momentum});
  if (o.name == "adamw") return std::make_unique<AdamW>(std::move(groups));
  return std::make_unique<Adam>(std::move(groups));
}

std::unique_ptr<LrSchedule> make_schedule(const OptimConfig& o, int64_t steps_per_epoch,
                                          int64_t epochs) {
  if (o.schedule == "step") {
    DML_CHECK(o.step_size >= 1, "optimizer.step_size (epochs) must be >= 1 for the step schedule");
    return std::make_unique<StepLR>(o.step_size * steps_per_epoch, o.gamma);
  }
  if (o.schedule == "multistep") {
    std::vector<int64_t> steps;
    for (int64_t e : o.milestones) steps.push_back(e * steps_per_epoch);
    return std::make_unique<MultiStepLR>(steps, o.gamma);
  }
  if (o.schedule == "cosine")
    return std::make_unique<CosineWithWarmup>(o.warmup_steps, epochs * steps_per_epoch);
  return nullptr;
}

// A resumed run continues the log of the run it resumes. Lines of epochs
// after the checkpoint's (the run went on past it, or stopped between logging
// an epoch and checkpointing it) would repeat those epochs: they are dropped,
// so the log keeps one line per epoch.
void drop_log_lines_after(const std::filesystem::path& log, int64_t epochs_done) {
  if (!std::filesystem::exists(log)) return;
  std::ifstream in(log);
  std::string kept;
  for (std::string text; std::getline(in, text);) {
    const Json line = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    DML_CHECK(line.is_object() && line.contains("epoch") && line["epoch"].is_number_integer(),
              log.string(), ": a line is not a metrics record with an \"epoch\"; move the file ",
              "away to resume into this directory");
    if (line["epoch"].get<int64_t>() <= epochs_done) kept += text + "\n";
  }
  write_file_atomically(log.string(), kept);
}

// Keys a resumed run may set differently from the run it resumes: where it
// writes and runs, how long it runs, how fast it loads, how it evaluates
// (eval.*). Any other difference (model, loss, optimizer, data,
// augmentation, seed, batch) would train a different run from the
// checkpoint's state.
constexpr const char* kMayDifferOnResume[] = {"train.epochs",     "train.output",
                                              "train.device",     "train.precision",
                                              "train.cuda_graph", "train.channels_last",
                                              "train.workers",    "train.threads",
                                              "train.log_every",  "train.skip_nonfinite_steps",
                                              "data.root"};

bool may_differ_on_resume(const std::string& key) {
  if (key.rfind("eval.", 0) == 0) return true;
  for (const char* k : kMayDifferOnResume)
    if (key == k) return true;
  return false;
}

// The first key (dotted) whose values differ between two resolved configs, "" if none.
std::string first_difference(const Json& a, const Json& b, const std::string& path = "") {
  if (!a.is_object() || !b.is_object()) return a == b ? "" : path;
  for (const Json* side : {&a, &b})
    for (const auto& [key, value] : side->items()) {
      const std::string where = path.empty() ? key : path + "." + key;
      if (!a.contains(key) || !b.contains(key)) return where;
      if (may_differ_on_resume(where)) continue;
      const std::string inner = first_difference(a[key], b[key], where);
      if (!inner.empty()) return inner;
    }
  return "";
}

Json value_at(const Json& config, const std::string& dotted) {
  const Json* at = &config;
  for (size_t begin = 0; begin <= dotted.size();) {
    const size_t end = std::min(dotted.find('.', begin), dotted.size());
    const std::string key = dotted.substr(begin, end - begin);
    if (!at->is_object() || !at->contains(key)) return "(absent)";
    at = &(*at)[key];
    begin = end + 1;
  }
  return *at;
}

// A checkpoint resumes only the run that wrote it: see may_differ_on_resume.
void check_resumable(const std::string& path, const Json& checkpoint_config, const Json& config) {
  const Json theirs = resolve_config(checkpoint_config, {}, path);
  const std::string key = first_difference(theirs, config);
  if (key.empty()) return;
  std::string may_change;
  for (const char* k : kMayDifferOnResume) may_change.append(k).append(", ");
  throw Error(detail::concat(
      "--resume ", path, ": the checkpoint's run has ", key, " = ", value_at(theirs, key).dump(),
      ", this run ", value_at(config, key).dump(), "; a resumed run keeps its config (only ",
      may_change, "and eval.* may change)"));
}

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

// What the host reads back from a step, once, after queueing all of it:
// the loss value and whether it and every gradient were finite.
struct StepVerdict {
  double loss;
  bool finite;
};

StepVerdict read_step_verdict(const StepOutput& step) {
  NoGradGuard no_grad;
  const Tensor both = stack({step.loss.to(DType::f64), step.nonfinite.to(DType::f64)}, 0);
  const std::vector<double> values = both.to_vector<double>();
  return {values[0], values[1] == 0};
}

class Run {
 public:
  Run(const Json& config, const TrainOptions& options);
  Json train();

 private:
  void train_epoch(int64_t epoch);
  Json evaluate();
  void save_checkpoint_now();
  void log(const Json& line);

  Json config_json_;
  TrainConfig c_;
  std::filesystem::path out_;
  data::SampleSet train_set_;
  EvalData held_out_;
  std::unique_ptr<data::MPerClassSampler> sampler_;
  data::SampleLoader train_loader_;
  std::shared_ptr<nn::EmbeddingNet> model_;
  std::unique_ptr<losses::Loss> loss_;
  std::unique_ptr<miners::Miner> miner_;
  std::unique_ptr<Optimizer> optimizer_;
  std::unique_ptr<LrSchedule> schedule_;
  std::unique_ptr<TrainingExtension> extension_;  // null for a plain DML run
  int64_t steps_per_epoch_ = 0, epochs_done_ = 0, steps_ = 0;
};

Run::Run(const Json& config, const TrainOptions& options)
    : config_json_(config), c_(typed_config(config)), out_(c_.run.output) {
  DML_CHECK(
      !c_.run.cuda_graph || (c_.loss.name == "margin" && c_.loss.miner == "distance_weighted"),
      "train.cuda_graph: only the margin loss with the distance_weighted miner (one fused op "
      "on the device) is capturable; loss '",
      c_.loss.name, "' with miner '", c_.loss.miner,
      "' uploads index lists every step; set train.cuda_graph=false");
  // Here, not in typed_config: a checkpoint trained on a GPU still loads for
  // evaluation on a machine without one.
  DML_CHECK(!c_.run.device.is_cuda() || c_.run.device.index < cuda_device_count(), "train.device ",
            c_.run.device.str(), ": no such CUDA device (", cuda_device_count(),
            " present); set train.device to cpu");
  DML_CHECK(c_.run.precision != Precision::tf32 || c_.run.device.is_cuda(),
            "train.precision tf32: TF32 exists on CUDA devices only and this run trains on ",
            c_.run.device.str(), "; set train.precision to f32 or bf16, or train.device to cuda");
  DML_CHECK(!c_.run.cuda_graph || c_.run.device.is_cuda(),
            "train.cuda_graph: CUDA graphs capture work on a GPU and this run trains on ",
            c_.run.device.str(), "; set train.cuda_graph=false or train.device=cuda");
  use_configured_threads(c_.run);
  std::error_code error;
  std::filesystem::create_directories(out_, error);
  DML_CHECK(!error, "train.output ", out_.string(),
            ": cannot create the output directory: ", error.message(),
            "; choose a writable directory");
  train_set_ = open_split(c_.data, "train");
  held_out_ = open_eval_data(c_, "test");
  const int64_t classes = make_labels_contiguous(train_set_);

  std::vector<int64_t> labels;
  for (const auto& s : train_set_.samples) labels.push_back(s.label);
  try {
    sampler_ = std::make_unique<data::MPerClassSampler>(
        labels, data::MPerClassConfig{.batch_size = c_.run.batch_size, .m = c_.run.m},
        uint64_t(c_.run.seed));
  } catch (const Error& e) {  // too few or too small classes: say in which dataset
    throw Error(train_set_.name + ": " + e.what());
  }
  steps_per_epoch_ = sampler_->batches_per_epoch();
  if (c_.run.max_steps_per_epoch > 0)
    steps_per_epoch_ = std::min(steps_per_epoch_, c_.run.max_steps_per_epoch);
  train_loader_ = make_sample_loader(c_.augment, c_.model.in_channels, /*train=*/true);

  manual_seed(uint64_t(c_.run.seed));
  model_ = build_model(c_.model);
  model_->to(c_.run.device);
  model_->backbone().set_channels_last(c_.run.channels_last);
  Generator loss_gen(data::derive_seed(uint64_t(c_.run.seed), 0, 3));
  loss_ = losses::make_loss(
      c_.loss.name,
      {.num_classes = classes, .embedding_dim = c_.model.embedding_dim, .gen = &loss_gen},
      c_.loss.params);
  loss_->to(c_.run.device);
  if (c_.loss.miner != "none") {
    DML_CHECK(losses::loss_entry(c_.loss.name).kind != losses::LossKind::proxy, "loss.miner '",
              c_.loss.miner, "' has no effect on the proxy loss '", c_.loss.name,
              "', which uses no tuples; set loss.miner to none");
    miner_ = miners::make_miner(c_.loss.miner, c_.loss.miner_params);
  }

  const OptimConfig& o = c_.optimizer;
  std::vector<ParamGroup> groups = {{.name = "backbone",
                                     .params = model_->backbone().parameters(),
                                     .lr = o.backbone_lr > 0 ? o.backbone_lr : o.lr,
                                     .weight_decay = o.weight_decay},
                                    {.name = "head",
                                     .params = model_->head().parameters(),
                                     .lr = o.head_lr > 0 ? o.head_lr : o.lr,
                                     .weight_decay = o.weight_decay}};
  if (!loss_->parameters().empty()) {
    const double mult =
        c_.loss.lr_multiplier > 0 ? c_.loss.lr_multiplier : loss_->default_lr_multiplier();
    groups.push_back({.name = "loss",
                      .params = loss_->parameters(),
                      .lr = o.lr * mult,
                      .weight_decay = o.weight_decay});
  }
  if (options.extension) extension_ = options.extension(config_json_, train_set_, *model_);
  DML_CHECK(!extension_ || !c_.run.cuda_graph,
            "train.cuda_graph: the PARADE branch uploads each batch's attributes, which a "
            "captured step cannot; set train.cuda_graph=false");
  if (extension_)
    for (ParamGroup& g : extension_->parameter_groups()) groups.push_back(std::move(g));
  optimizer_ = make_optimizer(o, std::move(groups));
  schedule_ = make_schedule(o, steps_per_epoch_, c_.run.epochs);

  if (!options.resume.empty()) {
    Checkpoint ck = load_checkpoint(options.resume);
    DML_CHECK(!ck.optimizer.empty() || ck.epochs_done == 0, "--resume ", options.resume,
              ": an exported model holds no optimizer state; resume from checkpoint.safetensors");
    check_resumable(options.resume, ck.config, config_json_);
    model_->load_state_dict(ck.model);
    for (const auto& [name, value] : ck.loss) {
      bool found = false;
      for (const auto& [own, param] : loss_->named_parameters())
        if (own == name) {
          copy_into(param, value);
          found = true;
        }
      DML_CHECK(found, "--resume ", options.resume, ": loss parameter '", name, "' is not a ",
                "parameter of loss '", c_.loss.name, "'");
    }
    DML_CHECK(ck.extension.empty() || extension_, "--resume ", options.resume,
              ": the checkpoint holds PARADE state, but this run's config has no ",
              "parade.attributes");
    if (extension_) extension_->load_state_dict(ck.extension);
    optimizer_->load_state(ck.optimizer);
    if (ck.rng) default_generator().set_state(*ck.rng);
    epochs_done_ = ck.epochs_done;
    steps_ = ck.steps;
  }
  write_file_atomically((out_ / "config.json").string(), config_json_.dump(2) + "\n");
  if (options.resume.empty())
    std::filesystem::remove(out_ / "metrics.jsonl");
  else
    drop_log_lines_after(out_ / "metrics.jsonl", epochs_done_);

  std::printf("%s: %zu training images in %lld classes (%lld skipped: classes with < m = %lld)\n",
              train_set_.name.c_str(), train_set_.samples.size(), (long long)classes,
              (long long)sampler_->skipped_samples(), (long long)c_.run.m);
  std::printf("%s: %zu held-out images%s\n", held_out_.queries.name.c_str(),
              held_out_.queries.samples.size(),
              held_out_.gallery ? std::string(", gallery ")
                                      .append(std::to_string(held_out_.gallery->samples.size()))
                                      .c_str()
                                : "");
  std::printf("model %s + %lld-d head, %lld parameters; loss %s%s; %lld steps per epoch\n",
              c_.model.backbone.c_str(), (long long)c_.model.embedding_dim,
              (long long)model_->num_parameters(), loss_->describe().c_str(),
              miner_ ? (", miner " + miner_->describe()).c_str() : "", (long long)steps_per_epoch_);
  if (extension_) std::printf("%s\n", extension_->describe().c_str());
  if (epochs_done_ > 0)
    std::printf("resumed from %s after epoch %lld (step %lld)\n", options.resume.c_str(),
                (long long)epochs_done_, (long long)steps_);
  std::fflush(stdout);
}

// The log is rewritten whole, atomically: a crash or a full disk while
// logging leaves the previous lines intact, never a torn last line.
void Run::log(const Json& line) {
  const std::filesystem::path path = out_ / "metrics.jsonl";
  std::string text;
  if (std::filesystem::exists(path)) {
    std::ifstream in(path, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    DML_CHECK(!in.bad(), path.string(), ": cannot read it back to append an epoch");
  }
  write_file_atomically(path.string(), text + line.dump() + "\n");
}

void Run::train_epoch(int64_t epoch) {
  std::vector<std::vector<int64_t>> batches = sampler_->epoch(epoch);
  batches.resize(size_t(steps_per_epoch_));
  data::BatchLoader loader(train_set_, std::move(batches), train_loader_,
                           {.workers = c_.run.workers,
                            .seed = uint64_t(c_.run.seed),
                            .epoch = epoch,
                            .bad_samples = c_.data.skip_bad_images ? data::BadSamplePolicy::skip
                                                                   : data::BadSamplePolicy::error});
  model_->train();
  if (extension_) extension_->train(true);
  Generator miner_gen(data::derive_seed(uint64_t(c_.run.seed), uint64_t(epoch), 2));
  Progress progress(epoch + 1, c_.run.epochs, loader.size(), c_.run.log_every);
  int64_t skipped_steps = 0;
  data::DevicePrefetch on_device(loader, c_.run.device);
  // model_(images) = head(backbone features); the extension reads the features too.
  // With train.precision bf16 both run under autocast: the backbone keeps
  // bf16 activations inside and returns f32 features, the head's product
  // returns f32; the losses compute in f32.
  auto forward = [&](const Tensor& images) {
    AutocastGuard autocast(c_.run.precision == Precision::bf16 ? DType::bf16 : DType::f32);
    Tensor features = model_->backbone().forward_features(images);
    return std::pair{features, model_->head()(features)};
  };
  // A step's device work is queued whole before the host reads its verdict:
  // forward, loss, backward, the non-finite flag, and the optimizer's update
  // skipped on the device when the flag is set. The host commits the step
  // (Optimizer::commit_step) only when the verdict is good.
  // `eager`: the batch when the step runs now, null while it is captured.
  auto forward_backward = [&](const Tensor& images, const Tensor& labels,
                              const data::Batch* eager) {
    const auto [features, embeddings] = forward(images);
    if (eager) on_device.prefetch();  // before the miner or the loss value waits for the device
    Tensor loss = miner_ ? loss_->forward_mined(embeddings, labels, *miner_, miner_gen)
                         : loss_->forward(embeddings, labels);
    if (extension_) loss = loss + extension_->loss(features, embeddings, *eager);
    loss.backward();
    return StepOutput{loss, nonfinite_flag(loss, *optimizer_)};
  };
  // train.cuda_graph: the epoch's first step runs eagerly (cuDNN's algorithms
  // chosen, the optimizer's state and coefficient buffers allocated), the
  // second is captured with this epoch's draws and replayed from then on,
  // the optimizer's update included: before each replay the host stages its
  // coefficients (learning rate, bias corrections). (Checked in the
  // constructor: the loss is the fused margin loss, no extension.)
  std::unique_ptr<StepGraph> graph;
  int64_t eager_steps = 0;
  while (auto batch = on_device.next()) {
    if (schedule_) schedule_->apply(*optimizer_, steps_);
    if (graph && !graph->fits(*batch)) graph.reset();  // other shapes: captured anew
    StepOutput step;
    if (c_.run.cuda_graph && (graph || eager_steps > 0)) {
      if (!graph) {
        optimizer_->zero_grad();  // the capture's backward creates the gradients the replays write
        graph = std::make_unique<StepGraph>(
            *batch, c_.run.device, miner_gen, [&](const Tensor& images, const Tensor& labels) {
              StepOutput captured = forward_backward(images, labels, nullptr);
              optimizer_->launch_step(captured.nonfinite);
              return captured;
            });
      }
      optimizer_->stage_step();
      step = graph->replay(*batch);
      on_device.prefetch();
    } else {
      optimizer_->zero_grad();
      step = forward_backward(batch->images, batch->labels, &*batch);
      optimizer_->stage_step();  // after backward: it stages the parameters that have gradients
      optimizer_->launch_step(step.nonfinite);
      ++eager_steps;
    }
    ++steps_;
    // A non-finite loss or gradient never reaches the weights: the update
    // skipped itself, and the step is counted as skipped, or the run ends
    // with the last good checkpoint. The loss is checked with the gradients:
    // a non-finite loss is caught even where its gradients came out finite.
    const StepVerdict verdict = read_step_verdict(step);
    const double value = verdict.loss;
    const char* bad = !std::isfinite(value) ? "loss" : !verdict.finite ? "gradient" : nullptr;
    if (bad) {
      DML_CHECK(c_.run.skip_nonfinite_steps, "train: non-finite ", bad, " (loss ", value,
                ") at epoch ", epoch + 1, ", step ", steps_, "; nothing of this epoch was saved, ",
                epochs_done_ > 0
                    ? "the last good checkpoint " + (out_ / "checkpoint.safetensors").string() +
                          " (epoch " + std::to_string(epochs_done_) + ") is kept"
                    : std::string("no checkpoint was written yet"),
                "; lower optimizer.lr, check the loss parameters, or set ",
                "train.skip_nonfinite_steps=true to skip such steps");
      ++skipped_steps;
      continue;
    }
    optimizer_->commit_step();
    kill_point("step");
    progress.update(value, batch->images.size(0));
  }
  graph.reset();  // its memory back to the caching allocator before evaluation
  const double mean_loss = progress.finish();
  Json line = {{"epoch", epoch + 1},
               {"steps", steps_},
               {"loss", mean_loss},
               {"images_per_second", progress.images_per_second()},
               {"seconds", progress.seconds()},
               {"lr", optimizer_->groups()[0].lr},
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
  log(line);
  epochs_done_ = epoch + 1;
  save_checkpoint_now();
}

Json Run::evaluate() {
  Json out = Json::object();
  Embedded queries;
  const eval::RetrievalReport report = evaluate_model(*model_, c_, held_out_, &queries);
  for (const auto& [name, value] : report.metrics) out[name] = value;
  if (extension_) out.update(extension_->evaluate(queries, report));
  return out;
}

void Run::save_checkpoint_now() {
  save_checkpoint((out_ / "checkpoint.safetensors").string(),
                  {.model = model_->state_dict(),
                   .loss = loss_->named_parameters(),
                   .optimizer = optimizer_->state(),
                   .extension = extension_ ? extension_->state_dict() : NamedTensors{},
                   .epochs_done = epochs_done_,
                   .steps = steps_,
                   .rng = default_generator().state(),
                   .config = config_json_});
}

Json Run::train() {
  // train.precision tf32 holds for this run only (the switch is global).
  AllowTf32Scope tf32(c_.run.precision == Precision::tf32);
  Json last = Json::object();
  for (int64_t epoch = epochs_done_; epoch < c_.run.epochs; ++epoch) train_epoch(epoch);
  save_exported_model((out_ / "model.safetensors").string(), model_->state_dict(), config_json_);
  std::printf("wrote %s and %s\n", (out_ / "checkpoint.safetensors").c_str(),
              (out_ / "model.safetensors").c_str());
  std::ifstream metrics(out_ / "metrics.jsonl");
  for (std::string text; std::getline(metrics, text);) last = Json::parse(text);
  return last;
}

}  // namespace

Json run_training(const Json& resolved_config, const TrainOptions& options) {
  Run run(resolved_config, options);
  return run.train();
}

}  // namespace dml::train
