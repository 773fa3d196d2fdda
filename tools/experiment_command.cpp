// dml experiment findml: baseline and PARADE, same config, seeds and budget,
// audited side by side, over a sweep's grid of config values.
#include <cstdio>
#include <memory>

#include "fairness/experiment.h"
#include "tools/commands.h"

namespace dml::tools {

namespace {

struct ExperimentArgs {
  std::string config, attribute, output = "runs/findml";
  std::vector<std::string> sets, sweeps;
  int64_t seeds = 1, max_runs = 60, threads = kConfigThreads;
};

}  // namespace

Command add_experiment_command(CLI::App& app) {
  auto args = std::make_shared<ExperimentArgs>();
  CLI::App* experiment = app.add_subcommand("experiment", "Run a bundled experiment");
  experiment->require_subcommand(1);
  CLI::App* cmd = experiment->add_subcommand(
      "findml",
      "Baseline vs PARADE over seeds (and a sweep's grid) on the bundled benchmark (or --config)");
  cmd->add_option("--config", args->config,
                  "Run config (default: configs/findml_fashion_mnist.json's values)");
  cmd->add_option("--set", args->sets, "Override a config key (repeatable)");
  cmd->add_option("--sweep", args->sweeps,
                  "KEY=V1,V2,...: run every value of a config key (repeatable: the grid of all)");
  cmd->add_option("--attribute", args->attribute, "Sensitive attribute (default: tone)");
  add_threads_option(cmd, args->threads);
  // A later --seeds or --output replaces an earlier one, so scripts/demo.sh's
  // defaults give way to the user's.
  cmd->add_option("--seeds", args->seeds, "Seeds 0 .. N-1, each cell's runs on every one")
      ->check(at_least(1))
      ->capture_default_str()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->add_option("--max-runs", args->max_runs, "Refuse a sweep of more training runs than this")
      ->check(at_least(1))
      ->capture_default_str();
  cmd->add_option("--output", args->output,
                  "Output directory; run again with the same arguments to resume")
      ->capture_default_str()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  return [args] {
    Json base = args->config.empty() ? fairness::findml_default_config()
                                     : train::read_config_file(args->config);
    std::vector<std::string> overrides = args->sets;
    for (const std::string& t : threads_override(args->threads)) overrides.push_back(t);
    Json config = train::resolve_config(
        base, overrides, args->config.empty() ? "the findml defaults" : args->config);
    fairness::SweepOptions options{.axes = {},
                                   .seeds = {},
                                   .attribute = args->attribute,
                                   .output = args->output,
                                   .max_runs = args->max_runs};
    for (int64_t s = 0; s < args->seeds; ++s) options.seeds.push_back(s);
    for (const std::string& s : args->sweeps) options.axes.push_back(fairness::parse_sweep_axis(s));
    const fairness::ExperimentResult result = fairness::run_findml_experiment(config, options);
    std::printf("\nfinDML on %s, %lld seed(s); estimates with 95%% intervals (%s):\n%s",
                config["data"]["format"].get<std::string>().c_str(), (long long)args->seeds,
                args->seeds >= 2 ? "across seeds, Student t; * = paired t-test p < 0.05"
                                 : "one seed: bootstrap over queries",
                fairness::findml_tables(result).c_str());
    std::printf("wrote %s/results.jsonl, %s/experiment.json and %s/report.html\n",
                args->output.c_str(), args->output.c_str(), args->output.c_str());
  };
}

}  // namespace dml::tools
