#pragma once
// Every miner by name, as the loss registry: one entry per miner with its
// factory and documented parameters, registered from the miner's own .cpp.
//
//   auto miner = dml::miners::make_miner("semi_hard", {{"margin", 0.1}});
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dml/miners/miner.h"
#include "dml/params.h"
#include "dml/registry.h"

namespace dml::miners {

using MinerParams = ParamValues;
// Receives every parameter of its entry, defaults filled in and ranges checked.
using MinerFactory = std::function<std::unique_ptr<Miner>(const MinerParams&)>;

struct MinerEntry {
  std::string name;
  std::string summary;
  std::vector<ParamSpec> params;
  MinerFactory make;
};

// Where each miner's .cpp adds its entry.
Registry<MinerEntry>& miner_registry();

// The entries, sorted by name.
const std::vector<MinerEntry>& miner_table();

// Errors as make_loss's.
std::unique_ptr<Miner> make_miner(const std::string& name, const MinerParams& params = {});
std::vector<std::string> miner_names();
const MinerEntry& miner_entry(const std::string& name);

}  // namespace dml::miners
