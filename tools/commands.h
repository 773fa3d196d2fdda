#pragma once
// The subcommands of `dml`. Each registers its options on the CLI11 app and
// returns the function that runs it; the work itself lives in the libraries.
#include <CLI/CLI.hpp>

#include <functional>

namespace dml::tools {

using Command = std::function<void()>;

Command add_train_command(CLI::App& app);
Command add_eval_command(CLI::App& app);
Command add_embed_command(CLI::App& app);
Command add_list_command(CLI::App& app);
Command add_audit_command(CLI::App& app);
Command add_experiment_command(CLI::App& app);

}  // namespace dml::tools
