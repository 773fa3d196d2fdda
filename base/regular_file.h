#pragma once
// Input files opened only when they are regular files. A directory, a FIFO or
// a device named where a file is expected would otherwise read forever
// (/dev/zero), block (a FIFO with no writer) or fail with a message that does
// not say why. Every reader opens its input through RegularFile: the kind is
// checked with fstat on the opened descriptor, so a file swapped between a
// check and the open cannot slip through, and the open itself does not block
// (O_NONBLOCK) on a FIFO.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dml {

class RegularFile {
 public:
  // Opens `path` for reading. Throws dml::Error naming `what` (e.g. "image",
  // "CSV manifest") and the path when it cannot be opened, with `hint`
  // appended (how to fix it), or when it is not a regular file, saying what it
  // is ("a directory", "a FIFO", "a character device", ...).
  RegularFile(std::string path, std::string_view what, std::string_view hint = {});
  ~RegularFile();
  RegularFile(RegularFile&& other) noexcept;
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;
  RegularFile& operator=(RegularFile&&) = delete;

  const std::string& path() const { return path_; }
  // The size when opened.
  uint64_t size() const { return size_; }

  // Reads up to n bytes; fewer only at the end of the file. An I/O error
  // throws naming the file.
  size_t read_some(void* dst, size_t n);
  // The rest of the file. More than max_bytes throws naming the file and the
  // limit.
  std::string read_rest(uint64_t max_bytes);

  // Hands the descriptor over (to gzdopen, fdopen); the caller closes it.
  int release();

 private:
  std::string path_, what_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// The whole of a regular file (RegularFile's checks and messages), at most
// max_bytes.
std::string read_regular_file(const std::string& path, std::string_view what,
                              std::string_view hint = {}, uint64_t max_bytes = UINT64_MAX);

}  // namespace dml
