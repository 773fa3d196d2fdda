#pragma once
// The subcommands of `dml`. Each registers its options on the CLI11 app and
// returns the function that runs it; the work itself lives in the libraries.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dml::tools {

using Command = std::function<void()>;

// Refuses a count below `minimum` (or not a whole number) as a parse error.
CLI::Validator at_least(int64_t minimum);

// --threads N: OpenMP threads for the kernels (0: all cores), the same on
// every command that computes. Left out (kConfigThreads), the config's
// train.threads holds.
inline constexpr int64_t kConfigThreads = -1;
void add_threads_option(CLI::App* cmd, int64_t& threads);
// {"train.threads=N"} when --threads was given, else nothing.
std::vector<std::string> threads_override(int64_t threads);

// What every command on a trained model takes: the checkpoint (or exported
// model) and config overrides (e.g. data.root on another machine).
struct ModelArgs {
  std::string checkpoint;
  std::vector<std::string> sets;
  std::string device = "cpu";
  int64_t threads = kConfigThreads;

  // --set's overrides, then --threads' when given.
  std::vector<std::string> overrides() const;
};
// --checkpoint (required unless `checkpoint_required` is false), --set,
// --device (where the model runs) and --threads.
CLI::Option* add_model_options(CLI::App* cmd, ModelArgs& args, bool checkpoint_required = true);

// `dml --version`: the version, the commit it was built from, the CPU kernel
// paths and CUDA (tools/version.cpp).
std::string version_text();

Command add_train_command(CLI::App& app);
Command add_eval_command(CLI::App& app);
Command add_embed_command(CLI::App& app);
Command add_list_command(CLI::App& app);
Command add_audit_command(CLI::App& app);
Command add_experiment_command(CLI::App& app);
Command add_config_command(CLI::App& app);

}  // namespace dml::tools
