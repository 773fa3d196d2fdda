#pragma once
// Named numeric options of a registered component (a loss, a miner): each
// registry row lists the parameters its component accepts, with default,
// allowed range and meaning, so a config is checked before training starts
// and the defaults are documented in one place.
#include <map>
#include <string>
#include <vector>

namespace dml {

using ParamValues = std::map<std::string, double>;

struct ParamSpec {
  std::string name;
  double default_value = 0;
  double min = 0, max = 0;  // bounds, inclusive unless *_open
  bool min_open = false, max_open = false;
  bool integer = false;  // counts, and on/off switches (0 or 1)
  std::string doc;

  static ParamSpec real(std::string name, double def, double min, double max, std::string doc);
  static ParamSpec open_interval(std::string name, double def, double min, double max,
                                 std::string doc);                               // (min, max)
  static ParamSpec positive(std::string name, double def, std::string doc);      // (0, inf)
  static ParamSpec non_negative(std::string name, double def, std::string doc);  // [0, inf)
  static ParamSpec whole(std::string name, double def, double min, double max, std::string doc);
  static ParamSpec flag(std::string name, bool def, std::string doc);  // 0 or 1

  bool allows(double v) const;
  std::string range() const;  // "(0, inf)", "{0, 1}"
};

// The defaults overridden by `given`. Throws dml::Error naming the component
// (`kind` "loss", `name` "triplet"), the offending parameter and the allowed
// ones when `given` holds an unknown key or a value outside its range.
ParamValues resolve_params(const std::string& kind, const std::string& name,
                           const std::vector<ParamSpec>& specs, const ParamValues& given);

// Throws dml::Error: "unknown <kind> '<name>'; known names: a, b, ...".
[[noreturn]] void throw_unknown_name(const std::string& kind, const std::string& name,
                                     const std::vector<std::string>& known);

// "name(key=value, ...)" in key order: how components describe themselves.
std::string describe_params(const std::string& name, const ParamValues& params);

}  // namespace dml
