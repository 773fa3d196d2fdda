#include "dml/miners/registry.h"

namespace dml::miners {

Registry<MinerEntry>& miner_registry() {
  // Built on first use, so the miners' static registrations may run first.
  static Registry<MinerEntry> registry("miner");
  return registry;
}

const std::vector<MinerEntry>& miner_table() {
  return miner_registry().entries();
}

std::vector<std::string> miner_names() {
  return miner_registry().names();
}

const MinerEntry& miner_entry(const std::string& name) {
  return miner_registry().at(name);
}

std::unique_ptr<Miner> make_miner(const std::string& name, const MinerParams& params) {
  return miner_entry(name).make(miner_registry().resolve(name, params));
}

}  // namespace dml::miners
