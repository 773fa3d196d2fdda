#include "dml/data/csv_manifest.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>

#include "dml/data/list_file.h"

namespace dml::data {

namespace {

struct Record {
  int64_t line = 0;  // where the record starts
  std::vector<std::string> fields;
};

class CsvParser {
 public:
  CsvParser(const std::string& path, const std::string& text) : path_(path), text_(text) {
    if (text_.rfind("\xEF\xBB\xBF", 0) == 0) pos_ = 3;
  }

  // All records but blank lines.
  std::vector<Record> records() {
    std::vector<Record> out;
    while (pos_ < text_.size()) {
      Record r = record();
      if (r.fields.size() > 1 || !r.fields[0].empty()) out.push_back(std::move(r));
    }
    return out;
  }

 private:
  template <class... Args>
  [[noreturn]] void fail(int64_t line, const Args&... message) const {
    throw Error(detail::concat("CSV manifest ", path_, ":", line, ": ", message...));
  }

  // One record, up to and including its line end.
  Record record() {
    Record r;
    r.line = line_;
    for (;;) {
      r.fields.push_back(field());
      if (pos_ >= text_.size()) return r;
      const char c = text_[pos_++];
      if (c == '\n') {
        ++line_;
        return r;
      }
      // field() stops only at a comma, a line end or the end of the text.
    }
  }

  std::string field() {
    std::string value;
    if (pos_ < text_.size() && text_[pos_] == '"') return quoted();
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == ',' || c == '\n') break;
      if (c == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
        ++pos_;  // CRLF: the '\n' ends the record
        break;
      }
      if (c == '"')
        fail(line_,
             "a quote inside an unquoted field (quote the whole field and double the quote)");
      value += c;
      ++pos_;
    }
    return value;
  }

  std::string quoted() {
    const int64_t start = line_;
    std::string value;
    ++pos_;  // the opening quote
    for (;;) {
      if (pos_ >= text_.size()) fail(start, "a quoted field is never closed");
      const char c = text_[pos_++];
      if (c == '"') {
        if (pos_ < text_.size() && text_[pos_] == '"') {
          value += '"';
          ++pos_;
          continue;
        }
        break;
      }
      if (c == '\n') ++line_;
      value += c;
    }
    if (pos_ < text_.size() && text_[pos_] == '\r' && pos_ + 1 < text_.size() &&
        text_[pos_ + 1] == '\n')
      ++pos_;
    if (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n')
      fail(line_, "text after a closing quote");
    return value;
  }

  const std::string& path_;
  const std::string& text_;
  size_t pos_ = 0;
  int64_t line_ = 1;
};

// A label or attribute column as integers, and the names of its codes.
struct CodedColumn {
  std::vector<int64_t> values;
  ValueNames names;  // empty for a column of integers
};

// The values themselves when all are integers, else codes of the distinct
// strings in sorted order, each code named by its string (check_values has
// made sure they are UTF-8). Names must fit on one line (tables and logs show
// them), and two names that differ only in surrounding spaces would read as
// one in every report, so each of these is refused.
CodedColumn code_column(const std::vector<Record>& rows, size_t column, const std::string& name,
                        const std::string& path) {
  CodedColumn out;
  out.values.resize(rows.size());
  bool integers = true;
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string& v = rows[i].fields[column];
    DML_CHECK(!v.empty(), "CSV manifest ", path, ":", rows[i].line, ": empty value in column '",
              name, "'");
    integers = integers && parse_integer(v, out.values[i]);
  }
  if (integers) return out;
  std::map<std::string, int64_t> codes;
  std::map<std::string_view, const Record*> by_trimmed;
  for (const Record& r : rows) {
    const std::string& v = r.fields[column];
    DML_CHECK(!has_control_character(v), "CSV manifest ", path, ":", r.line, ": value '",
              escape_bytes(v), "' in column '", name,
              "' holds a line break or other control character; a name must fit on one line");
    if (!codes.emplace(v, 0).second) continue;
    const auto [seen, fresh] = by_trimmed.emplace(trim_spaces(v), &r);
    DML_CHECK(fresh, "CSV manifest ", path, ":", r.line, ": value '", v, "' in column '", name,
              "' differs from '", seen->second->fields[column], "' (line ", seen->second->line,
              ") only in surrounding spaces; write both the same way");
  }
  int64_t next = 0;
  for (auto& [text, code] : codes) {
    code = next++;
    out.names.emplace(code, text);
  }
  for (size_t i = 0; i < rows.size(); ++i) out.values[i] = codes.at(rows[i].fields[column]);
  return out;
}

// The header's columns by name. Every name must be present, unique and
// UTF-8 (attribute names are written into JSON documents). One hash lookup
// per column: a header of a million columns takes as long to check as to
// read.
std::unordered_map<std::string_view, size_t> column_index(const Record& header,
                                                          const std::string& path) {
  std::unordered_map<std::string_view, size_t> columns;
  columns.reserve(header.fields.size());
  for (size_t c = 0; c < header.fields.size(); ++c) {
    const std::string& name = header.fields[c];
    DML_CHECK(!name.empty(), "CSV manifest ", path, ":", header.line, ": column ", c + 1,
              " has no name; name every column in the header row");
    DML_CHECK(first_invalid_utf8(name) == std::string::npos, "CSV manifest ", path, ":",
              header.line, ": the name of column ", c + 1, " ('", escape_bytes(name),
              "') is not valid UTF-8; save the manifest as UTF-8");
    const auto [it, fresh] = columns.emplace(name, c);
    DML_CHECK(fresh, "CSV manifest ", path, ":", header.line, ": column '", name,
              "' is named twice (columns ", it->second + 1, " and ", c + 1, ")");
  }
  return columns;
}

// The first names of the header, for a message about a missing column.
std::string header_names(const Record& header) {
  constexpr size_t kShown = 8;
  std::string out;
  for (size_t c = 0; c < header.fields.size() && c < kShown; ++c)
    out += detail::concat(c ? ", " : "", "'", header.fields[c].substr(0, 40), "'");
  return header.fields.size() > kShown ? out + ", ..." : out;
}

// Whether `v`, spaces around it dropped, reads whole as a number (strtod:
// "+1", "1.0", "1e3", "nan", an integer past int64).
bool reads_as_number(const std::string& v) {
  const size_t first = v.find_first_not_of(' ');
  if (first == std::string::npos) return false;
  const std::string trimmed = v.substr(first, v.find_last_not_of(' ') - first + 1);
  char* end = nullptr;
  std::strtod(trimmed.c_str(), &end);
  return end == trimmed.c_str() + trimmed.size();
}

// A label or attribute column's values: UTF-8 (they name classes and
// subgroups in JSON documents), and, in a column of integers, no number
// spelled otherwise (" 1", "+1", "1.0", "1e3", one past int64, "NaN"): the
// column would be coded as text, each spelling a class of its own.
void check_values(const std::vector<Record>& rows, size_t column, const std::string& name,
                  const std::string& path) {
  const Record *integer = nullptr, *other = nullptr;
  for (const Record& r : rows) {
    const std::string& v = r.fields[column];
    const size_t bad = first_invalid_utf8(v);
    DML_CHECK(bad == std::string::npos, "CSV manifest ", path, ":", r.line, ": the value '",
              escape_bytes(v), "' of column '", name, "' is not valid UTF-8 (at its byte ", bad,
              "); save the manifest as UTF-8");
    int64_t value = 0;
    if (parse_integer(v, value))
      integer = integer ? integer : &r;
    else if (!other && reads_as_number(v))
      other = &r;
  }
  DML_CHECK(!integer || !other, "CSV manifest ", path, ":", other ? other->line : 0, ": column '",
            name, "' holds '", other ? other->fields[column] : "",
            "', a number not written as a plain integer, beside integers such as '",
            integer ? integer->fields[column] : "", "' (line ", integer ? integer->line : 0,
            "); the column would be read as text, each spelling a value of its own. Write "
            "every number of the column as a plain integer (no spaces, '+', decimals or "
            "exponent, within 64 bits)");
}

// The manifest's header and its records, the header's names checked.
struct Manifest {
  Record header;
  std::vector<Record> rows;
};

Manifest read_manifest(const std::string& path) {
  const std::string text = read_text_file(path, "CSV manifest");
  require_8bit_text(text, "CSV manifest", path);
  std::vector<Record> rows = CsvParser(path, text).records();
  DML_CHECK(!rows.empty(), "CSV manifest ", path,
            " is empty; expected a header row naming at least path,label");
  Record header = std::move(rows.front());
  rows.erase(rows.begin());
  return {std::move(header), std::move(rows)};
}

}  // namespace

std::map<std::string, int64_t> csv_split_counts(const std::string& path) {
  const Manifest m = read_manifest(path);
  const auto columns = column_index(m.header, path);
  std::map<std::string, int64_t> counts;
  const auto split = columns.find("split");
  if (split == columns.end()) return counts;
  for (const Record& r : m.rows)
    if (split->second < r.fields.size()) ++counts[r.fields[split->second]];
  return counts;
}

SampleSet read_csv_manifest(const std::string& path, const CsvManifestOptions& options) {
  Manifest manifest = read_manifest(path);
  const Record& header = manifest.header;
  std::vector<Record>& rows = manifest.rows;

  const std::unordered_map<std::string_view, size_t> columns = column_index(header, path);
  auto column = [&](const std::string& name) -> std::ptrdiff_t {
    auto it = columns.find(name);
    return it == columns.end() ? -1 : std::ptrdiff_t(it->second);
  };
  const std::ptrdiff_t path_col = column("path"), label_col = column("label"),
                       split_col = column("split");
  DML_CHECK(path_col >= 0 && label_col >= 0, "CSV manifest ", path, ":", header.line,
            ": the header must name a 'path' and a 'label' column (names are exact: lower case, "
            "no spaces); it names ",
            header_names(header));
  DML_CHECK(options.split.empty() || split_col >= 0, "CSV manifest ", path,
            " has no 'split' column to select split '", options.split, "' by");
  for (const Record& r : rows)
    DML_CHECK(r.fields.size() == header.fields.size(), "CSV manifest ", path, ":", r.line,
              ": expected ", header.fields.size(), " fields as in the header, got ",
              r.fields.size());

  for (size_t c = 0; c < header.fields.size(); ++c)
    if (std::ptrdiff_t(c) != path_col) check_values(rows, c, header.fields[c], path);

  SampleSet set;
  set.name = detail::concat("csv:", path, options.split.empty() ? "" : " ", options.split);
  CodedColumn labels = code_column(rows, size_t(label_col), "label", path);
  set.class_names = std::move(labels.names);
  std::vector<std::vector<int64_t>> attributes;
  for (size_t c = 0; c < header.fields.size(); ++c) {
    if (std::ptrdiff_t(c) == path_col || std::ptrdiff_t(c) == label_col ||
        std::ptrdiff_t(c) == split_col)
      continue;
    CodedColumn coded = code_column(rows, c, header.fields[c], path);
    set.attribute_names.push_back(header.fields[c]);
    set.attribute_values.push_back(std::move(coded.names));
    attributes.push_back(std::move(coded.values));
  }

  const std::string dir = std::filesystem::path(path).parent_path().string();
  // An image listed twice would be drawn twice as often, or sit in two
  // splits at once (a test image seen in training); either is a mistake.
  std::map<std::string, int64_t> first_line;
  for (const Record& r : rows) {
    const std::string& image = r.fields[size_t(path_col)];
    DML_CHECK(!image.empty(), "CSV manifest ", path, ":", r.line, ": empty path");
    const auto [it, fresh] =
        first_line.emplace(std::filesystem::path(join_path(dir, image)).lexically_normal(), r.line);
    DML_CHECK(fresh, "CSV manifest ", path, ":", r.line, ": image '", image,
              "' is listed twice (first on line ", it->second, "); remove the duplicate row");
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const Record& r = rows[i];
    if (!options.split.empty() && r.fields[size_t(split_col)] != options.split) continue;
    Sample s;
    const std::string& image = r.fields[size_t(path_col)];
    s.path = join_path(dir, image);
    if (options.check_files) require_image_file(s.path, detail::concat(path, ":", r.line));
    s.label = labels.values[i];
    for (const std::vector<int64_t>& a : attributes) s.attributes.push_back(a[i]);
    set.samples.push_back(std::move(s));
  }
  DML_CHECK(!rows.empty(), "CSV manifest ", path, " lists no images, only a header");
  if (set.samples.empty()) {
    std::set<std::string> splits;
    for (const Record& r : rows) splits.insert(r.fields[size_t(split_col)]);
    std::string names;
    for (const std::string& n : splits) names += detail::concat(names.empty() ? "" : ", ", n);
    throw Error(detail::concat("CSV manifest ", path, " has no row of split '", options.split,
                               "'; its splits are: ", names));
  }
  return set;
}

}  // namespace dml::data
