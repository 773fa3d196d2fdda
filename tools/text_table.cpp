#include "tools/text_table.h"

#include <algorithm>

namespace dml::tools {

namespace {

// Code points, so that a name such as "µ" takes one column.
size_t display_width(const std::string& s) {
  return size_t(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

}  // namespace

std::string TextTable::str() const {
  std::vector<size_t> widths;
  for (const auto& [row, verbatim] : rows_)
    for (size_t i = 0; i < row.size() && !verbatim; ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  std::string out;
  for (const auto& [row, verbatim] : rows_) {
    if (verbatim) {
      out += row[0] + "\n";
      continue;
    }
    std::string line = indent_;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - display_width(row[i]) + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace dml::tools
