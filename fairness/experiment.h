#pragma once
// The finDML experiment: the baseline and PARADE trained with the same
// config, seed and budget, over several seeds, each audited on the held-out
// classes; a side-by-side table of the means and standard deviations.
//
// The baseline is the same run without the attribute branch (no attribute
// head, no decorrelation: alpha = rho = 0); PARADE adds the branch for the
// audited attribute with the config's parade settings.
#include <cstdint>
#include <string>
#include <vector>

#include "dml/train/config.h"

namespace dml::fairness {

struct ExperimentOptions {
  std::vector<int64_t> seeds = {0};
  std::string attribute{};  // empty: default_audit_attribute(config)
  // <output>/seed<k>/{baseline,parade}/, experiment.json, report.html
  std::string output{};
};

struct ExperimentResult {
  std::vector<Json> baseline, parade;  // audit documents, one per seed
};

// The bundled benchmark's run (configs/findml_fashion_mnist.json holds the
// same values): Fashion-MNIST with the "tone" attribute inverted on 5% of
// each training class and half of each held-out class, the small ResNet of
// the demo, PARADE on "tone" with rho 1 and the projector at the model's
// learning rate (the paper's 1e-5 belongs to its 1e-5 fine-tuning).
Json findml_default_config();

ExperimentResult run_findml_experiment(const Json& config, const ExperimentOptions& options);

// Rows "metric | baseline mean +/- std | PARADE mean +/- std", as text.
std::string findml_table(const ExperimentResult& result);
// The same rows as JSON: [{"metric", "baseline": [values], "parade": [values]}].
Json findml_table_json(const ExperimentResult& result);

}  // namespace dml::fairness
