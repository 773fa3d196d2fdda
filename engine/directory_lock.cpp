#include "engine/directory_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"

namespace dml {

namespace {

// The pid a holder wrote into the lock file, or "" when unreadable.
std::string holder_pid(int fd) {
  char text[32] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  std::string pid = n > 0 ? std::string(text, size_t(n)) : "";
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid;
}

// True when `fd` is still the file at `path`: a holder that ended removed
// the file it locked, and a lock on a removed file guards nothing.
bool still_at(int fd, const std::string& path) {
  struct stat open_file {
  }, named{};
  return ::fstat(fd, &open_file) == 0 && ::stat(path.c_str(), &named) == 0 &&
         open_file.st_dev == named.st_dev && open_file.st_ino == named.st_ino;
}

}  // namespace

DirectoryLock::DirectoryLock(const std::string& dir, const std::string& what)
    : path_(dir + "/.lock") {
  for (;;) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    DML_CHECK(fd_ >= 0, what, " ", dir, ": cannot create the lock file ", path_, ": ",
              std::strerror(errno), "; choose a writable directory");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      const std::string pid = holder_pid(fd_);
      ::close(fd_);
      fd_ = -1;
      DML_CHECK(error != EWOULDBLOCK, what, " ", dir, ": another run",
                pid.empty() ? "" : " (pid " + pid + ")", " is writing into this directory (it ",
                "holds ", path_, "); wait for it to end, or choose another directory");
      throw Error(
          detail::concat(what, " ", dir, ": cannot lock ", path_, ": ", std::strerror(error)));
    }
    if (still_at(fd_, path_)) break;
    ::close(fd_);  // its holder removed it as we opened it: lock the new one
  }
  // The pid only makes another writer's error clearer: the lock holds without it.
  const std::string pid = std::to_string(::getpid()) + "\n";
  [[maybe_unused]] const bool recorded =
      ::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, pid.data(), pid.size(), 0) == ssize_t(pid.size());
}

DirectoryLock::~DirectoryLock() {
  ::unlink(path_.c_str());
  ::close(fd_);
}

}  // namespace dml
