#include "dml/losses/registry.h"

namespace dml::losses {

Registry<LossEntry>& loss_registry() {
  // Built on first use, so the losses' static registrations may run first.
  static Registry<LossEntry> registry("loss");
  return registry;
}

const std::vector<LossEntry>& loss_table() {
  return loss_registry().entries();
}

std::vector<std::string> loss_names() {
  return loss_registry().names();
}

const LossEntry& loss_entry(const std::string& name) {
  return loss_registry().at(name);
}

std::unique_ptr<Loss> make_loss(const std::string& name, const LossContext& ctx,
                                const LossParams& params) {
  return loss_entry(name).make(ctx, loss_registry().resolve(name, params));
}

}  // namespace dml::losses
