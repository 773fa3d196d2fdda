#pragma once
// A DML training run, as `dml train` drives it: the config's datasets, model,
// loss (+ miner), optimizer groups and schedule; epochs of m-per-class
// batches from the threaded loader; evaluation on the held-out split every
// eval.every epochs; a JSON line per epoch in <output>/metrics.jsonl; an
// atomic checkpoint after every epoch and the exported model at the end.
#include <string>

#include "dml/train/config.h"

namespace dml::train {

struct TrainOptions {
  std::string resume;  // a checkpoint to continue from; its config is used
};

// Returns the last evaluation's metrics as a JSON object.
Json run_training(const Json& resolved_config, const TrainOptions& options = {});

}  // namespace dml::train
