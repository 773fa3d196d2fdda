#include "dml/data/list_file.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>

#include "base/regular_file.h"

namespace dml::data {

std::string read_text_file(const std::string& path, std::string_view what) {
  return read_regular_file(path, what,
                           " (check the dataset root and that the download is complete)");
}

void require_8bit_text(std::string_view text, std::string_view what, const std::string& path) {
  DML_CHECK(!text.starts_with("\xFF\xFE") && !text.starts_with("\xFE\xFF"), what, " ", path,
            " is UTF-16 text; save it as UTF-8");
  const size_t nul = text.find('\0');
  DML_CHECK(nul == std::string_view::npos, what, " ", path, " holds a NUL byte at offset ", nul,
            "; it is UTF-16 or binary, not text: save it as UTF-8");
}

size_t first_invalid_utf8(std::string_view text) {
  const auto byte = [&](size_t i) { return uint8_t(text[i]); };
  for (size_t i = 0; i < text.size();) {
    const uint8_t b = byte(i);
    if (b < 0x80) {
      ++i;
      continue;
    }
    // The sequence's length and the range of its second byte (which rules
    // out overlong forms, surrogates and code points past U+10FFFF).
    size_t length = 0;
    uint8_t low = 0x80, high = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      length = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      length = 3;
      if (b == 0xE0) low = 0xA0;
      if (b == 0xED) high = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      length = 4;
      if (b == 0xF0) low = 0x90;
      if (b == 0xF4) high = 0x8F;
    } else {
      return i;
    }
    if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high) return i;
    for (size_t k = 2; k < length; ++k)
      if ((byte(i + k) & 0xC0) != 0x80) return i;
    i += length;
  }
  return std::string_view::npos;
}

std::string join_path(const std::string& root, std::string_view relative) {
  std::filesystem::path rel{std::string(relative)};
  if (rel.is_absolute()) return rel.string();
  return (std::filesystem::path(root) / rel).string();
}

void require_image_file(const std::string& image, std::string_view where) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_type type = fs::status(image, ec).type();
  if (type == fs::file_type::regular) return;
  const std::string what = detail::concat("image file ", image, " named at ", where);
  DML_CHECK(type != fs::file_type::not_found, what,
            " does not exist (complete the download, or set check_files = false to skip this "
            "check)");
  DML_CHECK(!ec, what, " cannot be checked: ", ec.message());
  throw Error(detail::concat(what,
                             type == fs::file_type::directory
                                 ? " is a directory"
                                 : " is not a regular file (a FIFO, device or socket)",
                             ", not an image; fix the list"));
}

bool parse_integer(std::string_view text, int64_t& value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end && !text.empty();
}

ListFile::ListFile(std::string path, std::string what)
    : path_(std::move(path)), what_(std::move(what)), text_(read_text_file(path_, what_)) {
  require_8bit_text(text_, what_, path_);
  if (text_.starts_with("\xEF\xBB\xBF")) pos_ = 3;  // a UTF-8 byte-order mark
}

bool ListFile::next() {
  while (pos_ < text_.size()) {
    size_t end = text_.find('\n', pos_);
    if (end == std::string::npos) end = text_.size();
    std::string_view line(text_.data() + pos_, end - pos_);
    pos_ = end + 1;
    ++line_number_;
    fields_.clear();
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
      if (i > start) fields_.push_back(line.substr(start, i - start));
    }
    if (!fields_.empty()) {
      ++lines_with_fields_;
      return true;
    }
  }
  fields_.clear();
  return false;
}

std::string ListFile::where() const {
  return detail::concat(path_, ":", line_number_);
}

void ListFile::require_images(int64_t header_lines) const {
  DML_CHECK(lines_with_fields_ > header_lines, what_, " ", path_,
            ": the file lists no images (the download is empty or incomplete)");
}

void ListFile::expect_header(std::initializer_list<std::string_view> names) {
  std::string header;
  for (std::string_view n : names) header += detail::concat(header.empty() ? "" : " ", n);
  if (!next()) fail("the file ends before the header `", header, "`");
  if (!std::equal(fields_.begin(), fields_.end(), names.begin(), names.end()))
    fail("expected the header `", header, "`");
}

void ListFile::expect_fields(size_t count, std::string_view layout) const {
  if (fields_.size() != count)
    fail("expected ", count, " fields (", layout, "), got ", fields_.size());
}

int64_t ListFile::integer(size_t index, std::string_view name) const {
  int64_t value = 0;
  if (!parse_integer(fields_.at(index), value))
    fail(name, " '", fields_[index], "' is not an integer");
  return value;
}

double ListFile::number(size_t index, std::string_view name) const {
  std::string_view text = fields_.at(index);
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(value))
    fail(name, " '", text, "' is not a finite number");
  return value;
}

}  // namespace dml::data
