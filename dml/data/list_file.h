#pragma once
// The plumbing every dataset reader shares: a text list file read whole and
// walked line by line with its fields, errors that name the file and line,
// image paths joined to the dataset root, and the check that a listed image
// exists. Datasets publish their lists as whitespace-separated columns; the
// CSV manifest reads the same file text with its own field parser.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/error.h"

namespace dml::data {

// The whole text of a file. A missing or unreadable file throws naming `what`
// (e.g. "CUB-200-2011 image list") and the path.
std::string read_text_file(const std::string& path, std::string_view what);

// Refuses text that is not 8-bit text: a UTF-16 byte-order mark or a NUL
// byte (UTF-16 without one, or a binary file) throws naming `what` and the
// path, with how to fix it.
void require_8bit_text(std::string_view text, std::string_view what, const std::string& path);

// The offset of the first byte of `text` that does not belong to valid UTF-8
// (overlong forms, surrogates and code points past U+10FFFF are invalid), or
// npos. Strings that end up in JSON documents must be UTF-8.
size_t first_invalid_utf8(std::string_view text);

// `relative` joined to `root`; an absolute path is kept as it is.
std::string join_path(const std::string& root, std::string_view relative);

// Throws when `image` is not an existing regular file, naming it and `where`
// (the list file and line that named it).
void require_image_file(const std::string& image, std::string_view where);

class ListFile {
 public:
  ListFile(std::string path, std::string what);

  // Moves to the next line that holds a field and splits it on spaces and
  // tabs (a trailing '\r' is dropped; a UTF-8 byte-order mark is skipped);
  // false after the last line.
  bool next();

  const std::vector<std::string_view>& fields() const { return fields_; }
  const std::string& path() const { return path_; }
  const std::string& what() const { return what_; }
  // "<path>:<line>", for messages about the current line.
  std::string where() const;

  // Throws "<what> <path>:<line>: <message>".
  template <class... Args>
  [[noreturn]] void fail(const Args&... message) const {
    throw Error(detail::concat(what_, " ", where(), ": ", message...));
  }

  // Fails when fewer than header_lines + 1 lines held fields: a list that
  // names no image (an empty or truncated download).
  void require_images(int64_t header_lines = 0) const;
  // Moves to the next line and fails unless it is exactly these words.
  void expect_header(std::initializer_list<std::string_view> names);
  // Fails unless the line has exactly `count` fields; `layout` names them.
  void expect_fields(size_t count, std::string_view layout) const;
  // Field `index` as an integer or a number; `name` says what it is.
  int64_t integer(size_t index, std::string_view name) const;
  double number(size_t index, std::string_view name) const;

 private:
  std::string path_, what_, text_;
  size_t pos_ = 0;
  int64_t line_number_ = 0;
  int64_t lines_with_fields_ = 0;
  std::vector<std::string_view> fields_;
};

// The images of a dataset's primary list (CUB's images.txt, CelebA's
// identity file) by key, so the other lists that describe the same images can
// be checked against it: each of their lines must name a known image, once,
// and together they must cover every image.
template <class Key>
class ImageIndex {
 public:
  explicit ImageIndex(std::string primary) : primary_(std::move(primary)) {}

  // Adds the image of the current line of `list`; a repeated key fails.
  void add(const Key& key, const ListFile& list) {
    if (!index_.emplace(key, keys_.size()).second) list.fail("image ", key, " is listed twice");
    keys_.push_back(key);
  }
  size_t size() const { return keys_.size(); }
  const Key& key(size_t i) const { return keys_[i]; }
  // The position of `key` in the primary list; an unknown key fails at the
  // current line of `list`.
  size_t at(const Key& key, const ListFile& list) const {
    auto it = index_.find(key);
    if (it == index_.end()) list.fail("image ", key, " is not in ", primary_);
    return it->second;
  }

  // One pass of another list over the same images.
  class Coverage {
   public:
    explicit Coverage(const ImageIndex& index) : index_(index), seen_(index.size(), false) {}
    // The position of `key` in the primary list; fails when it is unknown or
    // this list already named it.
    size_t mark(const Key& key, const ListFile& list) {
      const size_t i = index_.at(key, list);
      if (seen_[i]) list.fail("image ", key, " is listed twice");
      seen_[i] = true;
      return i;
    }
    // Fails when an image of the primary list had no line in `list`.
    void require_all(const ListFile& list) const {
      for (size_t i = 0; i < seen_.size(); ++i)
        DML_CHECK(seen_[i], list.what(), " ", list.path(), ": no line for image ", index_.keys_[i],
                  " of ", index_.primary_, " (the dataset's list files do not match)");
    }

   private:
    const ImageIndex& index_;
    std::vector<bool> seen_;
  };

 private:
  std::string primary_;
  std::vector<Key> keys_;
  std::unordered_map<Key, size_t> index_;
};

// Parses all of `text` as a base-10 integer (optional leading '-'); false when
// it is not one or overflows.
bool parse_integer(std::string_view text, int64_t& value);

}  // namespace dml::data
