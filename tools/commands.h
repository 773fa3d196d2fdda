#pragma once
// The subcommands of `dml`. Each registers its options on the CLI11 app and
// returns the function that runs it; the work itself lives in the libraries.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace dml::tools {

using Command = std::function<void()>;

// What every command on a trained model takes: the checkpoint (or exported
// model) and config overrides (e.g. data.root on another machine).
struct ModelArgs {
  std::string checkpoint;
  std::vector<std::string> sets;
  std::string device = "cpu";
};
// --checkpoint (required unless `checkpoint_required` is false), --set and
// --device (where the model runs).
CLI::Option* add_model_options(CLI::App* cmd, ModelArgs& args, bool checkpoint_required = true);

Command add_train_command(CLI::App& app);
Command add_eval_command(CLI::App& app);
Command add_embed_command(CLI::App& app);
Command add_list_command(CLI::App& app);
Command add_audit_command(CLI::App& app);
Command add_experiment_command(CLI::App& app);

}  // namespace dml::tools
