// dml experiment findml: baseline and PARADE, same config, seeds and budget,
// audited side by side.
#include <cstdio>
#include <memory>

#include "base/error.h"
#include "fairness/experiment.h"
#include "tools/commands.h"

namespace dml::tools {

namespace {

struct ExperimentArgs {
  std::string config, attribute, output = "runs/findml";
  std::vector<std::string> sets;
  int64_t seeds = 1;
};

}  // namespace

Command add_experiment_command(CLI::App& app) {
  auto args = std::make_shared<ExperimentArgs>();
  CLI::App* experiment = app.add_subcommand("experiment", "Run a bundled experiment");
  experiment->require_subcommand(1);
  CLI::App* cmd = experiment->add_subcommand(
      "findml", "Baseline vs PARADE over seeds on the bundled benchmark (or --config)");
  cmd->add_option("--config", args->config,
                  "Run config (default: configs/findml_fashion_mnist.json's values)");
  cmd->add_option("--set", args->sets, "Override a config key (repeatable)");
  cmd->add_option("--attribute", args->attribute, "Sensitive attribute (default: tone)");
  cmd->add_option("--seeds", args->seeds, "Seeds 0 .. N-1")->capture_default_str();
  cmd->add_option("--output", args->output, "Output directory")->capture_default_str();
  return [args] {
    Json base = args->config.empty() ? fairness::findml_default_config()
                                     : train::read_config_file(args->config);
    Json config = train::resolve_config(
        base, args->sets, args->config.empty() ? "the findml defaults" : args->config);
    DML_CHECK(args->seeds >= 1, "experiment findml: --seeds must be >= 1");
    std::vector<int64_t> seeds;
    for (int64_t s = 0; s < args->seeds; ++s) seeds.push_back(s);
    fairness::ExperimentResult result = fairness::run_findml_experiment(
        config, {.seeds = seeds, .attribute = args->attribute, .output = args->output});
    std::printf("\nfinDML on %s, %lld seed(s):\n%s",
                config["data"]["format"].get<std::string>().c_str(), (long long)args->seeds,
                fairness::findml_table(result).c_str());
    std::printf("wrote %s/experiment.json and %s/report.html\n", args->output.c_str(),
                args->output.c_str());
  };
}

}  // namespace dml::tools
