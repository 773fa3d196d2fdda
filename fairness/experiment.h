#pragma once
// The finDML experiment: the baseline and PARADE trained with the same
// config, seed and budget, over several seeds and over a sweep's grid of
// config values (sweep.h), each run audited on the held-out classes; per cell
// a table of estimates with 95% intervals and the paired difference PARADE -
// baseline (experiment_table.h).
//
// The baseline is the same run without the attribute branch (no attribute
// head, no decorrelation); PARADE adds the branch for the audited attribute
// with the config's parade settings.
//
// Files under the output directory:
//   runs/<arm>-seed<k>-<hash>/   each run: config, checkpoint, model,
//                                metrics.jsonl, audit.json
//   results.jsonl                a row per (cell, seed, arm) finished,
//                                rewritten atomically after every run
//   experiment.json              the plan, every cell's table and audits
//   report.html                  the trade-off, subgroup bars, maps
//
// An interrupted experiment resumes when run again with the same arguments: a
// run with its audit.json is not run again, one with its exported model is
// only audited, and one with a checkpoint continues from it.
#include <cstdint>
#include <string>
#include <vector>

#include "dml/train/config.h"
#include "fairness/experiment_table.h"
#include "fairness/sweep.h"

namespace dml::fairness {

struct ExperimentResult {
  SweepPlan plan;
  std::vector<CellAudits> cells;  // in plan order
};

// The bundled benchmark's run (configs/findml_fashion_mnist.json holds the
// same values): Fashion-MNIST with the "tone" attribute inverted on 5% of
// each training class and half of each held-out class, the small ResNet of
// the demo trained for 100 steps of 100 images (a third of the training
// split, so the demo's six runs stay well under 10 minutes on 2 cores),
// PARADE on "tone" with rho 1 and the projector at the model's learning rate
// (the paper's 1e-5 belongs to its 1e-5 fine-tuning).
Json findml_default_config();

ExperimentResult run_findml_experiment(const Json& config, const SweepOptions& options);

// Every cell's table as text, headed by the cell's name when there are
// several.
std::string findml_tables(const ExperimentResult& result);

}  // namespace dml::fairness
