#include "dml/train/resume.h"

#include <cstdio>

#include "dml/train/checkpoint.h"
#include "engine/ops.h"

namespace dml::train {

namespace {

// Keys a resumed run may set differently from the run it resumes: where it
// writes and runs, how long it runs, how fast it loads and communicates, how
// it evaluates (eval.*). Any other difference (model, loss, optimizer, data,
// augmentation, seed, batch, distributed.objective) would train a different
// run from the checkpoint's state.
constexpr const char* kMayDifferOnResume[] = {"train.epochs",
                                              "train.output",
                                              "train.device",
                                              "train.precision",
                                              "train.cuda_graph",
                                              "train.channels_last",
                                              "train.workers",
                                              "train.threads",
                                              "train.log_every",
                                              "train.skip_nonfinite_steps",
                                              "data.root",
                                              "distributed.bucket_mb",
                                              "distributed.timeout_seconds"};

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

// Loss parameters by name: a name this loss lacks is an error, not skipped.
void load_loss_parameters(const std::string& path, const NamedTensors& saved, losses::Loss& loss,
                          const std::string& loss_name) {
  for (const auto& [name, value] : saved) {
    bool found = false;
    for (const auto& [own, param] : loss.named_parameters())
      if (own == name) {
        copy_into(param, value);
        found = true;
      }
    DML_CHECK(found, "--resume ", path, ": loss parameter '", name, "' is not a ",
              "parameter of loss '", loss_name, "'");
  }
}

// A checkpoint of another number of ranks: the global objective's batches,
// augmentations and gradients do not depend on it, the local one's loss does
// (its anchors are a rank's rows).
void check_world_size(const std::string& path, const Checkpoint& ck, const TrainConfig& c,
                      const dist::Communicator& ranks) {
  if (ck.world_size == ranks.size()) return;
  DML_CHECK(c.distributed.objective == "global", "--resume ", path, ": the checkpoint was ",
            "trained on ", ck.world_size, " ranks and this run has ", ranks.size(), "; the ",
            "local objective's loss depends on how the batch is split among the ranks, so ",
            "resume on ", ck.world_size, " ranks (or start a new run)");
  if (ranks.rank() == 0)
    std::printf(
        "the checkpoint was trained on %lld ranks, this run has %d: the global objective "
        "trains the same batches, so the run continues exactly\n",
        (long long)ck.world_size, ranks.size());
}

// Every rank resumed the same point: each read the checkpoint on its own.
void check_same_point(const std::string& path, const ResumePoint& at, dist::Communicator& ranks) {
  if (ranks.size() == 1) return;
  const std::vector<int64_t> epochs = ranks.all_gather_value(at.epochs_done);
  const std::vector<int64_t> steps = ranks.all_gather_value(at.steps);
  std::string points;
  bool same = true;
  for (size_t r = 0; r < epochs.size(); ++r) {
    same = same && epochs[r] == epochs[0] && steps[r] == steps[0];
    points += detail::concat(r ? ", " : "", "rank ", r, " epoch ", epochs[r], " step ", steps[r]);
  }
  DML_CHECK(same, "--resume ", path, ": the ranks read different checkpoints (", points,
            "); give every rank the same file (a file system all ranks share)");
}

}  // namespace

ResumePoint resume_run(const std::string& path, const Json& config, const TrainConfig& c,
                       RunParts& parts) {
  Checkpoint ck = load_checkpoint(path);
  DML_CHECK(!ck.optimizer.empty() || ck.epochs_done == 0, "--resume ", path,
            ": an exported model holds no optimizer state; resume from checkpoint.safetensors");
  check_resumable(path, ck.config, config);
  check_world_size(path, ck, c, *parts.ranks);
  parts.model->load_state_dict(ck.model);
  load_loss_parameters(path, ck.loss, *parts.loss, c.loss.name);
  DML_CHECK(ck.extension.empty() || parts.extension, "--resume ", path,
            ": the checkpoint holds PARADE state, but this run's config has no ",
            "parade.attributes");
  if (parts.extension) parts.extension->load_state_dict(ck.extension);
  DML_CHECK(ck.memory.empty() || parts.memory, "--resume ", path,
            ": the checkpoint holds a cross-batch memory, but this run's loss.xbm_size is 0");
  if (parts.memory && !ck.memory.empty()) parts.memory->load_state_dict(ck.memory);
  parts.optimizer->load_state(ck.optimizer);
  if (ck.rng) default_generator().set_state(*ck.rng);
  const ResumePoint at{.epochs_done = ck.epochs_done, .steps = ck.steps};
  check_same_point(path, at, *parts.ranks);
  return at;
}

}  // namespace dml::train
