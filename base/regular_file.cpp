#include "base/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "base/error.h"

namespace dml {

namespace {

// What a file of this mode is, for "X is <kind>, not a regular file".
const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a plain file";
}

}  // namespace

RegularFile::RegularFile(std::string path, std::string_view what, std::string_view hint)
    : path_(std::move(path)), what_(what) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  do {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  } while (fd_ < 0 && errno == EINTR);
  DML_CHECK(fd_ >= 0, "cannot open ", what_, " ", path_, ": ", std::strerror(errno), hint);
  struct stat st {};
  const bool stated = ::fstat(fd_, &st) == 0;
  const int stat_errno = errno;
  if (!stated || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    DML_CHECK(stated, "cannot stat ", what_, " ", path_, ": ", std::strerror(stat_errno));
    throw Error(detail::concat(what_, " ", path_, " is ", kind_of(st.st_mode),
                               ", not a regular file; name a file"));
  }
  // Reads of a regular file never block; clear the flag all the same.
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
  size_ = uint64_t(st.st_size);
}

RegularFile::~RegularFile() {
  if (fd_ >= 0) ::close(fd_);
}

RegularFile::RegularFile(RegularFile&& other) noexcept
    : path_(std::move(other.path_)),
      what_(std::move(other.what_)),
      fd_(std::exchange(other.fd_, -1)),
      size_(other.size_) {}

size_t RegularFile::read_some(void* dst, size_t n) {
  auto* out = static_cast<char*>(dst);
  size_t done = 0;
  while (done < n) {
    const ssize_t got = ::read(fd_, out + done, n - done);
    if (got < 0 && errno == EINTR) continue;
    DML_CHECK(got >= 0, "cannot read ", what_, " ", path_, ": ", std::strerror(errno));
    if (got == 0) break;
    done += size_t(got);
  }
  return done;
}

std::string RegularFile::read_rest(uint64_t max_bytes) {
  DML_CHECK(size_ <= max_bytes, what_, " ", path_, " is ", size_, " bytes, over the limit of ",
            max_bytes, "; refused");
  // The size at open is a hint: the file may have grown or shrunk since.
  std::string bytes(size_t(size_), '\0');
  size_t got = read_some(bytes.data(), bytes.size());
  while (got == bytes.size()) {
    char more[65536];
    const size_t n = read_some(more, sizeof more);
    if (n == 0) break;
    DML_CHECK(bytes.size() + n <= max_bytes, what_, " ", path_, " grew past the limit of ",
              max_bytes, " bytes while being read; refused");
    bytes.append(more, n);
    got = bytes.size();
  }
  bytes.resize(got);
  return bytes;
}

int RegularFile::release() {
  return std::exchange(fd_, -1);
}

std::string read_regular_file(const std::string& path, std::string_view what, std::string_view hint,
                              uint64_t max_bytes) {
  return RegularFile(path, what, hint).read_rest(max_bytes);
}

}  // namespace dml
