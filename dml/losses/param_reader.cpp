#include "dml/losses/param_reader.h"

#include <cmath>
#include <limits>
#include <sstream>
#include <utility>

#include "engine/error.h"

namespace dml::losses {

Range Range::positive() {
  return {0, std::numeric_limits<double>::infinity(), true, true};
}
Range Range::non_negative() {
  return {0, std::numeric_limits<double>::infinity(), false, true};
}
Range Range::closed(double lo, double hi) {
  return {lo, hi, false, false};
}

bool Range::contains(double v) const {
  if (std::isnan(v)) return false;
  bool above = lo_open ? v > lo : v >= lo;
  bool below = hi_open ? v < hi : v <= hi;
  return above && below;
}

std::string Range::str() const {
  std::ostringstream os;
  os << (lo_open ? "(" : "[") << lo << ", " << hi << (hi_open ? ")" : "]");
  return os.str();
}

ParamReader::ParamReader(std::string loss, const std::map<std::string, double>& given)
    : loss_(std::move(loss)), given_(given) {}

double ParamReader::lookup(const std::string& key, double fallback) {
  allowed_.push_back(key);
  auto it = given_.find(key);
  return it == given_.end() ? fallback : it->second;
}

double ParamReader::real(const std::string& key, double fallback, Range range) {
  double v = lookup(key, fallback);
  DML_CHECK(range.contains(v), "loss ", loss_, ": ", key, " = ", v, " is outside ", range.str());
  return v;
}

int64_t ParamReader::integer(const std::string& key, int64_t fallback, int64_t min) {
  double v = lookup(key, double(fallback));
  DML_CHECK(v >= double(min) && v == std::floor(v) && v < 9.0e15, "loss ", loss_, ": ", key, " = ",
            v, " must be a whole number >= ", min);
  return int64_t(v);
}

bool ParamReader::flag(const std::string& key, bool fallback) {
  double v = lookup(key, fallback ? 1.0 : 0.0);
  DML_CHECK(v == 0 || v == 1, "loss ", loss_, ": ", key, " = ", v, " must be 0 or 1");
  return v == 1;
}

void ParamReader::finish() const {
  for (const auto& [key, value] : given_) {
    bool known = false;
    for (const std::string& a : allowed_) known |= a == key;
    if (known) continue;
    std::ostringstream keys;
    for (size_t i = 0; i < allowed_.size(); ++i) keys << (i ? ", " : "") << allowed_[i];
    DML_CHECK(false, "loss ", loss_, ": unknown parameter '", key,
              "'; allowed: ", allowed_.empty() ? std::string("none") : keys.str());
  }
}

}  // namespace dml::losses
