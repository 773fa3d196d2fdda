// dml list: the losses, miners and backbones a config can name, with every
// parameter's default, range and meaning, straight from the registries, and
// the dataset formats with their on-disk layouts.
#include <algorithm>
#include <cstdio>

#include "dml/losses/registry.h"
#include "dml/miners/registry.h"
#include "dml/train/datasets.h"
#include "layers/resnet.h"
#include "tools/commands.h"
#include "tools/text_table.h"

namespace dml::tools {

namespace {

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

// Each entry's name and summary, then its parameters indented below it; the
// parameters of all entries share one set of columns.
template <class Entry>
void print_entries(const char* title, const std::vector<Entry>& entries) {
  size_t name_width = 0;
  for (const Entry& e : entries) name_width = std::max(name_width, e.name.size());
  TextTable table("      ");
  table.add_line(std::string(title) + ":");
  for (const Entry& e : entries) {
    table.add_line("  " + e.name + std::string(name_width - e.name.size() + 2, ' ') + e.summary);
    for (const ParamSpec& p : e.params)
      table.add_row({p.name, number(p.default_value), p.range(), p.doc});
  }
  std::fputs(table.str().c_str(), stdout);
}

}  // namespace

Command add_list_command(CLI::App& app) {
  app.add_subcommand("list",
                     "List losses, miners (with parameters), backbones and dataset formats");
  return [] {
    print_entries("losses (loss.name; parameters in loss.params: default, range)",
                  losses::loss_table());
    print_entries("miners (loss.miner; parameters in loss.miner_params)", miners::miner_table());
    std::printf("backbones (model.backbone):\n ");
    for (const std::string& name : nn::resnet_names()) std::printf(" %s", name.c_str());
    std::printf("\ndataset formats (data.format; root = data.root):\n");
    TextTable formats("  ");
    for (const train::DataFormat& f : train::data_formats()) formats.add_row({f.name, f.layout});
    std::fputs(formats.str().c_str(), stdout);
    std::printf(
        "  (any other dataset in class folders root/<class>/<image>, or with attributes: write "
        "a csv manifest)\n");
  };
}

}  // namespace dml::tools
