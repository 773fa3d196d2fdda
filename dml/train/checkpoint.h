#pragma once
// Checkpoints and exported models, both safetensors files.
//
// A checkpoint holds everything a run needs to resume exactly: the model's
// tensors ("model.<name>"), the loss's learnable parameters ("loss.<name>"),
// the optimizer's state ("optim.<group>.<index>.<slot>"), and in the
// metadata the epochs done, the steps taken (the lr schedule's position), the
// process-wide generator's state, the resolved config and the names of the
// dataset's classes and attribute values ("names", run_names.h), the number
// of ranks that trained it and its global batch size, and the cross-batch
// memory's queue ("xbm.*", when the loss has one). Model tensors are
// parameters and buffers (batch-norm running statistics). The sampler, loader
// and miner draw from named streams of (seed, epoch) (dml/data/random_streams.h),
// so their state is the epoch: resuming after epoch e replays epoch e+1
// exactly as an unbroken run would. Checkpoints are written at epoch ends only.
//
// Formats are versioned ("dml-checkpoint-<N>", "dml-model-<N>"): a file of a
// newer version than this build knows is refused with an error saying so;
// older versions are read (version 1 lacks the generator state).
//
// An exported model holds the model's tensors under their own names
// ("backbone.conv1.weight", "head.fc.weight": what a deployment loads) and
// the config and the names in its metadata. Both are written atomically (temporary file,
// then rename), so a crash never leaves a half-written file.
#include <cstdint>
#include <optional>
#include <string>

#include "dml/json.h"
#include "engine/rng.h"
#include "engine/tensor.h"

namespace dml::train {

struct Checkpoint {
  NamedTensors model, loss, optimizer;
  NamedTensors extension;  // a training extension's state (PARADE), "ext.<name>"
  NamedTensors memory;     // the cross-batch memory's queue, under its own "xbm.*" names
  int64_t epochs_done = 0, steps = 0;
  // The ranks that trained it and the rows of a step over all of them (1
  // and 0 in files written before they were recorded).
  int64_t world_size = 1, global_batch_size = 0;
  // dml::default_generator() after the last step (absent from version 1).
  std::optional<GeneratorState> rng;
  Json config;
  // The names of class labels and attribute values (run_names.h); null in
  // files written before names were kept.
  Json names{};
};

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);
void save_exported_model(const std::string& path, const NamedTensors& model, const Json& config,
                         const Json& names);

// Reads either kind: an exported model gives empty loss and optimizer state.
// Errors name the file and say what is missing.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace dml::train
