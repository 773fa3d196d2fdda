// dml list: the losses, miners and backbones a config can name, with every
// parameter's default, range and meaning, straight from the registries.
#include <cstdio>

#include "dml/losses/registry.h"
#include "dml/miners/registry.h"
#include "layers/resnet.h"
#include "tools/commands.h"

namespace dml::tools {

namespace {

template <class Entry>
void print_entries(const char* title, const std::vector<Entry>& entries) {
  std::printf("%s:\n", title);
  for (const Entry& e : entries) {
    std::printf("  %-20s %s\n", e.name.c_str(), e.summary.c_str());
    for (const ParamSpec& p : e.params)
      std::printf("      %-18s %-8g %-14s %s\n", p.name.c_str(), p.default_value, p.range().c_str(),
                  p.doc.c_str());
  }
}

}  // namespace

Command add_list_command(CLI::App& app) {
  app.add_subcommand("list", "List losses, miners (with parameters) and backbones");
  return [] {
    print_entries("losses (loss.name; parameters in loss.params: default, range)",
                  losses::loss_table());
    print_entries("miners (loss.miner; parameters in loss.miner_params)", miners::miner_table());
    std::printf("backbones (model.backbone):\n ");
    for (const std::string& name : nn::resnet_names()) std::printf(" %s", name.c_str());
    std::printf("\n");
  };
}

}  // namespace dml::tools
