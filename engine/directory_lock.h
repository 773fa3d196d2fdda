#pragma once
// One writer per directory: an exclusive flock(2) on "<dir>/.lock", taken
// without waiting and held for the holder's whole life. The kernel drops a
// flock when its process ends however it ends (SIGKILL, a crash), so a dead
// writer never leaves a directory locked; the file left behind by one is
// simply locked again. The holder records its pid in the file, so the error
// another writer gets names the process in the way.
#include <string>

namespace dml {

class DirectoryLock {
 public:
  // Locks the existing directory `dir`. `what` names it in errors (e.g.
  // "train.output"); a directory already locked throws dml::Error naming it
  // and the holder's pid.
  DirectoryLock(const std::string& dir, const std::string& what);
  ~DirectoryLock();  // removes the lock file, then drops the lock
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

  const std::string& path() const { return path_; }  // the lock file

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace dml
