#include "engine/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "base/error.h"
#include "engine/kill_point.h"

namespace dml {

AtomicFile::AtomicFile(const std::string& path) : path_(path), tmp_(path + ".tmp") {
  file_ = std::fopen(tmp_.c_str(), "wb");
  DML_CHECK(file_, path_, ": cannot create ", tmp_, ": ", std::strerror(errno),
            " (does the directory exist and is it writable?)");
}

AtomicFile::~AtomicFile() {
  if (file_) std::fclose(file_);
  if (!committed_) std::remove(tmp_.c_str());
}

void AtomicFile::write(const void* data, size_t n) {
  DML_CHECK(n == 0 || std::fwrite(data, 1, n, file_) == n, path_, ": write to ", tmp_,
            " failed: ", std::strerror(errno));
  kill_point("write:" + path_.substr(path_.find_last_of('/') + 1), [this] { std::fflush(file_); });
}

void AtomicFile::sync() {
  if (!file_) return;  // synced already
  DML_CHECK(std::fflush(file_) == 0 && fsync(fileno(file_)) == 0, path_, ": write to ", tmp_,
            " failed: ", std::strerror(errno));
  std::FILE* f = file_;
  file_ = nullptr;
  DML_CHECK(std::fclose(f) == 0, path_, ": write to ", tmp_, " failed: ", std::strerror(errno));
}

void AtomicFile::commit() {
  sync();
  DML_CHECK(std::rename(tmp_.c_str(), path_.c_str()) == 0, path_, ": cannot rename ", tmp_,
            " to it: ", std::strerror(errno));
  committed_ = true;
  // The rename itself reaches the disk with the directory: without this, a
  // power cut could bring back the old file (never a torn one). Filesystems
  // that cannot sync a directory say so with an error that changes nothing.
  const size_t slash = path_.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path_.substr(0, slash + 1);
  if (const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

void write_file_atomically(const std::string& path, const std::string& text) {
  AtomicFile out(path);
  out.write(text);
  out.commit();
}

void write_files_atomically(const std::vector<FileToWrite>& files) {
  std::vector<std::unique_ptr<AtomicFile>> open;
  for (const FileToWrite& f : files) {
    open.push_back(std::make_unique<AtomicFile>(f.path));
    f.write(*open.back());
  }
  for (auto& f : open) f->sync();
  for (auto& f : open) f->commit();
}

}  // namespace dml
