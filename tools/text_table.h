#pragma once
// Text in aligned columns for the commands' listings: each column as wide as
// its widest cell (measured in UTF-8 code points), two spaces between
// columns, so a long name or range never runs into the next column.
#include <string>
#include <vector>

namespace dml::tools {

class TextTable {
 public:
  explicit TextTable(std::string indent = "") : indent_(std::move(indent)) {}
  void add_row(std::vector<std::string> cells) { rows_.push_back({std::move(cells), false}); }
  // A line printed as it is between the rows (a heading), not measured.
  void add_line(std::string text) { rows_.push_back({{std::move(text)}, true}); }
  // The rows, one line each, the last cell of a row unpadded.
  std::string str() const;

 private:
  struct Row {
    std::vector<std::string> cells;
    bool verbatim = false;
  };
  std::string indent_;
  std::vector<Row> rows_;
};

}  // namespace dml::tools
