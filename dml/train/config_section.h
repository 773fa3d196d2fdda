#pragma once
// A config section a training extension owns: its defaults and the rules for
// its keys, so the trainer's config knows the section without knowing the
// extension. The extension registers it from its own library (PARADE:
// fairness/parade_section.cpp); every config resolved in a program that links
// the extension then holds the section, with the same unknown-key and
// wrong-type errors as the trainer's own sections.
//
//   [[maybe_unused]] const bool registered = train::config_sections().add({...});
#include <map>
#include <string>
#include <vector>

#include "dml/json.h"
#include "dml/registry.h"

namespace dml::train {

// A key of the section whose object maps names the user chooses (attribute
// names, say) to objects of settings. Those names are not checked here (the
// extension checks them); settings for one name from a file and from each
// override add up rather than replace each other.
struct NamedSettings {
  std::string key;
  std::string example;  // settings shown in the error for a non-object value: {"rho": 0.5}
};

struct ConfigSection {
  std::string name;  // the top-level key
  Json defaults;     // every key of the section with its default value
  std::vector<NamedSettings> named_settings;
  // One line of meaning per key of `defaults` (`dml config show`; a test
  // holds every key to having one).
  std::map<std::string, std::string> docs;
};

// Sections placed between the trainer's "train" and "eval" sections, sorted
// by name (where config files have always had them).
Registry<ConfigSection>& config_sections();

}  // namespace dml::train
