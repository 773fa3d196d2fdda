#pragma once
// Components a config names (losses, miners, a training extension's config
// section): each entry registers itself from the file that defines it, so
// adding one touches no central table. Entries are kept sorted by name, the
// order `dml list`, the README and the tests show, whatever order the
// static initialisers run in.
//
//   [[maybe_unused]] const bool registered = loss_registry().add({...});
//
// The objects holding such registrations are referenced by no symbol, so a
// plain static link would drop them: their libraries are linked whole
// (dml_registering_library in cmake/RegisteringLibrary.cmake).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "dml/params.h"

namespace dml {

// Entry: a struct with a `name` (and, for resolve, `params`).
template <class Entry>
class Registry {
 public:
  // `kind` names an entry in errors: "loss", "miner".
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  // Returns true, for the initialiser of a namespace-scope constant. Throws
  // dml::Error on a name registered twice (which ends the program before
  // main: two files claim one name).
  bool add(Entry entry) {
    const auto at = position(entry.name);
    DML_CHECK(at == entries_.end() || at->name != entry.name, kind_, " '", entry.name,
              "' is registered twice");
    entries_.insert(at, std::move(entry));
    return true;
  }

  // Sorted by name.
  const std::vector<Entry>& entries() const { return entries_; }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const Entry& e : entries_) out.push_back(e.name);
    return out;
  }

  // Throws dml::Error for an unknown name, listing the known ones.
  const Entry& at(const std::string& name) const {
    const auto found = position(name);
    if (found == entries_.end() || found->name != name) throw_unknown_name(kind_, name, names());
    return *found;
  }

  // The named entry's parameters: its defaults overridden by `given`, each
  // checked against its range (see resolve_params for the errors).
  ParamValues resolve(const std::string& name, const ParamValues& given) const {
    return resolve_params(kind_, name, at(name).params, given);
  }

 private:
  // Where `name` is, or would go, in the sorted entries.
  typename std::vector<Entry>::const_iterator position(const std::string& name) const {
    return std::lower_bound(entries_.begin(), entries_.end(), name,
                            [](const Entry& e, const std::string& n) { return e.name < n; });
  }

  std::string kind_;
  std::vector<Entry> entries_;
};

}  // namespace dml
