// dml config show: the config a run would use (the defaults, a config file,
// --set overrides), every key with its value, its default when changed and
// its meaning; --json prints the resolved config alone.
#include <cstdio>
#include <memory>

#include "dml/train/config.h"
#include "tools/commands.h"
#include "tools/text_table.h"

namespace dml::tools {

namespace {

struct ConfigArgs {
  std::string config;
  std::vector<std::string> sets;
  bool json = false;
};

std::string config_table(const Json& resolved) {
  TextTable table;
  table.add_row({"key", "", "value", "default", "meaning"});
  for (const train::ConfigEntry& e : train::config_entries(resolved)) {
    const bool changed = e.value != e.default_value;
    table.add_row(
        {e.key, changed ? "*" : "", e.value.dump(), changed ? e.default_value.dump() : "", e.doc});
  }
  return table.str();
}

}  // namespace

Command add_config_command(CLI::App& app) {
  auto args = std::make_shared<ConfigArgs>();
  CLI::App* config = app.add_subcommand("config", "Show the resolved config and every key");
  config->require_subcommand(1);
  CLI::App* show = config->add_subcommand(
      "show", "Every config key with its value, its default (* = changed) and its meaning");
  show->add_option("--config", args->config, "JSON config file (see configs/)");
  show->add_option("--set", args->sets, "Override one config key: section.key=value (repeatable)");
  show->add_flag("--json", args->json, "Print the resolved config as JSON only");
  return [args] {
    const Json user = args->config.empty() ? Json::object() : train::read_config_file(args->config);
    const Json resolved =
        train::resolve_config(user, args->sets, args->config.empty() ? "defaults" : args->config);
    // Checked as `dml train` checks it, so a value that would fail there fails here.
    train::typed_config(resolved);
    if (args->json) {
      std::printf("%s\n", resolved.dump(2).c_str());
      return;
    }
    std::printf("# defaults%s%s; * = changed from the default\n",
                args->config.empty() ? "" : (" + " + args->config).c_str(),
                args->sets.empty() ? "" : " + --set");
    std::fputs(config_table(resolved).c_str(), stdout);
  };
}

}  // namespace dml::tools
