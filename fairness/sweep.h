#pragma once
// A sweep's plan: the grid of config values an experiment runs, and the runs
// it takes. Each cell of the grid (one value per swept key) is trained as a
// baseline and as PARADE on every seed. A run is named by a hash of its
// resolved config, so runs that are the same training are the same run:
// sweeping a parade.* key shares one baseline per seed between all cells,
// and an interrupted sweep finds its finished runs by name.
#include <cstdint>
#include <string>
#include <vector>

#include "dml/json.h"

namespace dml::fairness {

// One swept key and its values, in the order given.
struct SweepAxis {
  std::string key;           // a dotted config key, e.g. "parade.rho"
  std::vector<Json> values;  // each parsed as JSON, else taken as a string
};

// "KEY=V1,V2,...". Commas inside brackets, braces or quotes do not split, so
// a list value reads as one ("data.train_classes=[0,1],[2,3]"). Throws
// naming the text when the key or a value is empty or a key repeats.
SweepAxis parse_sweep_axis(const std::string& text);

enum class Arm { baseline, parade };
const char* arm_name(Arm arm);

// One training run of the plan.
struct PlannedRun {
  Arm arm = Arm::baseline;
  int64_t seed = 0;
  Json config;      // resolved; train.output is the run's directory
  std::string dir;  // <output>/runs/<arm>-seed<seed>-<hash>
};

// One cell: its values, and per seed its baseline and PARADE runs (indices
// into SweepPlan::runs).
struct SweepCell {
  std::string name;  // "parade.rho=0.25,data.minority_share=0.01"; "default" with no axes
  Json values;       // {"parade.rho": 0.25, ...}
  std::vector<size_t> baseline, parade;  // [seed]
};

struct SweepPlan {
  std::vector<SweepAxis> axes;
  std::vector<int64_t> seeds;
  std::string attribute;  // PARADE's (and the audit's) sensitive attribute
  std::vector<SweepCell> cells;
  std::vector<PlannedRun> runs;  // distinct runs, in the order they are trained
};

struct SweepOptions {
  std::vector<SweepAxis> axes{};
  std::vector<int64_t> seeds = {0};
  std::string attribute{};  // empty: default_audit_attribute(config)
  std::string output{};     // the sweep's directory
  int64_t max_runs = 60;    // a bigger plan is refused before anything runs
};

// The plan of `config` (resolved) under `options`. Every cell's config is
// resolved and checked (unknown key, wrong type or range, a bad parade
// setting), and the number of runs compared with max_runs, before anything
// runs: a bad sweep fails at once with one line. train.seed and
// train.output cannot be swept (--seeds and --output set them).
SweepPlan plan_sweep(const Json& config, const SweepOptions& options);

// The FNV-1a hash (64 bits, as 16 hex digits) of a config without its
// train.output: equal for the same training wherever it is written.
std::string config_hash(const Json& config);

}  // namespace dml::fairness
