#pragma once
// Resuming a run from its checkpoint (`dml train --resume`). A checkpoint
// resumes only the run that wrote it: the resolved configs may differ only in
// where and how the run executes, how long it runs and how it evaluates
// (the list is in resume.cpp), as any other difference would train a
// different run from the checkpoint's state. The checkpoint then restores
// every state a step reads, so the run continues as an unbroken one would
// (checkpoint.h).
#include <cstdint>
#include <string>

#include "dml/train/config.h"
#include "dml/train/run_setup.h"

namespace dml::train {

// Where a resumed run continues from.
struct ResumePoint {
  int64_t epochs_done = 0, steps = 0;
};

// Checks that the checkpoint at `path` was written by this run (`config`,
// resolved, and `c` typed from it), then loads the model, the loss's
// parameters, the extension's state, the optimizer's state and the
// process-wide generator into `parts`.
ResumePoint resume_run(const std::string& path, const Json& config, const TrainConfig& c,
                       RunParts& parts);

}  // namespace dml::train
