#pragma once
// Reads a loss's options from the config's name -> number map, checking each
// against its allowed range. Errors name the loss, the key and what is
// allowed, so a mistyped config fails with one line that says how to fix it.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dml::losses {

// An interval of allowed values; open ends exclude the bound.
struct Range {
  double lo, hi;
  bool lo_open = false, hi_open = false;

  static Range positive();      // (0, inf)
  static Range non_negative();  // [0, inf)
  static Range closed(double lo, double hi);
  bool contains(double v) const;
  std::string str() const;  // "(0, inf)"
};

class ParamReader {
 public:
  ParamReader(std::string loss, const std::map<std::string, double>& given);

  // given[key] if present, else fallback; either way it must lie in range.
  double real(const std::string& key, double fallback, Range range);
  // A whole number >= min.
  int64_t integer(const std::string& key, int64_t fallback, int64_t min);
  // 0 or 1.
  bool flag(const std::string& key, bool fallback);
  // Throws for any given key that no read asked for, listing the keys read.
  void finish() const;

 private:
  double lookup(const std::string& key, double fallback);

  std::string loss_;
  const std::map<std::string, double>& given_;
  std::vector<std::string> allowed_;
};

}  // namespace dml::losses
