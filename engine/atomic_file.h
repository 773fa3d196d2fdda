#pragma once
// Writing a file so that readers see the old file or the whole new one,
// never a prefix: the bytes go to "<path>.tmp", which commit() flushes to
// disk and renames over the destination (then syncs the directory, so the
// rename survives a power cut too). Destroyed uncommitted (an error on
// the way), the temporary file is removed and the old file is untouched.
// Every output the tools write (weights, checkpoints, embeddings) goes
// through it.
#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace dml {

class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);  // throws dml::Error naming both paths
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);
  void write(const std::string& text) { write(text.data(), text.size()); }
  // Everything written reaches the disk under the temporary name, where a
  // full disk shows. commit() does this first; a writer of several files
  // syncs each before it commits any (write_files_atomically).
  void sync();
  void commit();

 private:
  std::string path_, tmp_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

// The whole of `text` as the file at `path`, atomically.
void write_file_atomically(const std::string& path, const std::string& text);

// One of several files written together: its path and what fills it.
struct FileToWrite {
  std::string path;
  std::function<void(AtomicFile&)> write;
};

// Files that belong together (embeddings and their labels): each is written
// and synced under its temporary name before any is renamed, so a failure
// while writing (a full disk, an unwritable name) leaves every old file.
// They are renamed in order.
void write_files_atomically(const std::vector<FileToWrite>& files);

}  // namespace dml
