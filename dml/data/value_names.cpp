#include "dml/data/value_names.h"

#include <cstdio>

#include "dml/data/list_file.h"

namespace dml::data {

std::string value_name(const ValueNames& names, int64_t value) {
  const auto it = names.find(value);
  return it == names.end() ? std::to_string(value) : it->second;
}

const ValueNames& yes_no_names() {
  static const ValueNames names = {{0, "no"}, {1, "yes"}};
  return names;
}

std::string_view trim_spaces(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

bool has_control_character(std::string_view text) {
  for (const char c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return true;
  return false;
}

bool is_valid_utf8(std::string_view text) {
  return first_invalid_utf8(text) == std::string_view::npos;
}

std::string escape_bytes(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7F) {
      out += c;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", unsigned(b));
      out += hex;
    }
  }
  return out;
}

}  // namespace dml::data
