#include "dml/params.h"

#include <cmath>
#include <limits>
#include <sstream>

#include "base/error.h"

namespace dml {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string join(const std::vector<std::string>& names) {
  std::ostringstream os;
  for (size_t i = 0; i < names.size(); ++i) os << (i ? ", " : "") << names[i];
  return os.str();
}

std::string allowed_keys(const std::vector<ParamSpec>& specs) {
  if (specs.empty()) return "(none)";
  std::vector<std::string> names;
  for (const ParamSpec& s : specs) names.push_back(s.name);
  return join(names);
}

}  // namespace

ParamSpec ParamSpec::real(std::string name, double def, double min, double max, std::string doc) {
  ParamSpec s;
  s.name = std::move(name);
  s.default_value = def;
  s.min = min;
  s.max = max;
  s.doc = std::move(doc);
  return s;
}

ParamSpec ParamSpec::open_interval(std::string name, double def, double min, double max,
                                   std::string doc) {
  ParamSpec s = real(std::move(name), def, min, max, std::move(doc));
  s.min_open = s.max_open = true;
  return s;
}

ParamSpec ParamSpec::positive(std::string name, double def, std::string doc) {
  ParamSpec s = real(std::move(name), def, 0, kInf, std::move(doc));
  s.min_open = true;
  return s;
}

ParamSpec ParamSpec::non_negative(std::string name, double def, std::string doc) {
  return real(std::move(name), def, 0, kInf, std::move(doc));
}

ParamSpec ParamSpec::whole(std::string name, double def, double min, double max, std::string doc) {
  ParamSpec s = real(std::move(name), def, min, max, std::move(doc));
  s.integer = true;
  return s;
}

ParamSpec ParamSpec::flag(std::string name, bool def, std::string doc) {
  return whole(std::move(name), def ? 1 : 0, 0, 1, std::move(doc));
}

bool ParamSpec::allows(double v) const {
  if (std::isnan(v) || (integer && v != std::floor(v))) return false;
  return (min_open ? v > min : v >= min) && (max_open ? v < max : v <= max);
}

std::string ParamSpec::range() const {
  std::ostringstream os;
  if (integer && min == 0 && max == 1) return "{0, 1}";
  os << (min_open ? "(" : "[") << min << ", " << max << (max_open || max == kInf ? ")" : "]");
  if (integer) os << " whole";
  return os.str();
}

ParamValues resolve_params(const std::string& kind, const std::string& name,
                           const std::vector<ParamSpec>& specs, const ParamValues& given) {
  ParamValues out;
  for (const ParamSpec& s : specs) out[s.name] = s.default_value;
  for (const auto& [key, value] : given) {
    const ParamSpec* spec = nullptr;
    for (const ParamSpec& s : specs)
      if (s.name == key) spec = &s;
    DML_CHECK(spec, kind, " '", name, "' has no parameter '", key,
              "'; allowed: ", allowed_keys(specs));
    DML_CHECK(spec->allows(value), kind, " '", name, "': parameter '", key, "' = ", value,
              " is outside ", spec->range(), "; allowed: ", allowed_keys(specs));
    out[key] = value;
  }
  return out;
}

void throw_unknown_name(const std::string& kind, const std::string& name,
                        const std::vector<std::string>& known) {
  throw Error(detail::concat("unknown ", kind, " '", name, "'; known names: ", join(known)));
}

std::string describe_params(const std::string& name, const ParamValues& params) {
  std::ostringstream os;
  os << name << "(";
  bool first = true;
  for (const auto& [key, value] : params) {
    os << (first ? "" : ", ") << key << "=" << value;
    first = false;
  }
  os << ")";
  return os.str();
}

}  // namespace dml
