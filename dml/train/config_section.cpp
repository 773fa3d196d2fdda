#include "dml/train/config_section.h"

namespace dml::train {

Registry<ConfigSection>& config_sections() {
  // Built on first use, so the extensions' static registrations may run first.
  static Registry<ConfigSection> registry("config section");
  return registry;
}

}  // namespace dml::train
