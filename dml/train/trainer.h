#pragma once
// A DML training run, as `dml train` drives it: the config's datasets, model,
// loss (+ miner), optimizer groups and schedule; epochs of m-per-class
// batches from the threaded loader; evaluation on the held-out split every
// eval.every epochs; a JSON line per epoch in <output>/metrics.jsonl; an
// atomic checkpoint after every epoch (before its evaluation) and the
// exported model at the end. The output directory belongs to the run while
// it trains (run_directory.h).
//
// Started as one of several ranks (mpirun, srun: dist::world()), every rank
// calls run_training with the same config and they train one run data
// parallel (step_runner.h): each loads its shard of every global batch, and
// rank 0 alone claims the directory and writes the run's files.
#include <string>

#include "dml/train/config.h"
#include "dml/train/extension.h"

namespace dml::train {

struct TrainOptions {
  // A checkpoint to continue from. The config passed to run_training is the
  // one used: resolve it from the checkpoint's (as `dml train --resume`
  // does) to continue the same run.
  std::string resume{};
  // Replace the files of another run in the output directory (they are
  // removed once this run has started); without it, such a directory is
  // refused unless the run resumes that directory's own checkpoint.
  bool overwrite = false;
  // What Ctrl-C's line tells the user to run to resume the run; empty:
  // "dml train --resume <checkpoint>" (interrupt_hint.h).
  std::string resume_command{};
  // Builds the run's training extension (PARADE), if any; see extension.h.
  ExtensionFactory extension{};
};

// Returns the last evaluation's metrics as a JSON object.
Json run_training(const Json& resolved_config, const TrainOptions& options = {});

}  // namespace dml::train
