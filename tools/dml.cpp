// dml: the command-line front end. Subcommands parse their options with
// CLI11 and call into the library; every failure ends as one line on stderr
// and a non-zero exit status.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <map>

#include "tools/commands.h"

namespace dml::tools {

CLI::Option* add_model_options(CLI::App* cmd, ModelArgs& args, bool checkpoint_required) {
  CLI::Option* checkpoint = cmd->add_option("--checkpoint", args.checkpoint,
                                            "checkpoint.safetensors or model.safetensors")
                                ->required(checkpoint_required);
  cmd->add_option("--set", args.sets,
                  "Override a config key, e.g. data.root=/data/CUB_200_2011 (repeatable)");
  cmd->add_option("--device", args.device, "Where the model runs: cpu, cuda or cuda:N")
      ->capture_default_str();
  return checkpoint;
}

}  // namespace dml::tools

int main(int argc, char** argv) {
  CLI::App app{"dml: deep metric learning engine (train, evaluate and embed with DML models)"};
  app.require_subcommand(1);
  std::map<std::string, dml::tools::Command> commands = {
      {"train", dml::tools::add_train_command(app)},
      {"eval", dml::tools::add_eval_command(app)},
      {"embed", dml::tools::add_embed_command(app)},
      {"list", dml::tools::add_list_command(app)},
      {"audit", dml::tools::add_audit_command(app)},
      {"experiment", dml::tools::add_experiment_command(app)}};
  CLI11_PARSE(app, argc, argv);
  try {
    for (auto& [name, run] : commands)
      if (app.got_subcommand(name)) run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dml: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
