#include "dml/train/resume.h"

#include "dml/train/checkpoint.h"
#include "engine/ops.h"

namespace dml::train {

namespace {

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

}  // namespace

ResumePoint resume_run(const std::string& path, const Json& config, const TrainConfig& c,
                       RunParts& parts) {
  Checkpoint ck = load_checkpoint(path);
  DML_CHECK(!ck.optimizer.empty() || ck.epochs_done == 0, "--resume ", path,
            ": an exported model holds no optimizer state; resume from checkpoint.safetensors");
  check_resumable(path, ck.config, config);
  parts.model->load_state_dict(ck.model);
  load_loss_parameters(path, ck.loss, *parts.loss, c.loss.name);
  DML_CHECK(ck.extension.empty() || parts.extension, "--resume ", path,
            ": the checkpoint holds PARADE state, but this run's config has no ",
            "parade.attributes");
  if (parts.extension) parts.extension->load_state_dict(ck.extension);
  parts.optimizer->load_state(ck.optimizer);
  if (ck.rng) default_generator().set_state(*ck.rng);
  return {.epochs_done = ck.epochs_done, .steps = ck.steps};
}

}  // namespace dml::train
