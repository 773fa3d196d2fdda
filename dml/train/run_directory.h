#pragma once
// The directory a training run writes into (train.output), owned by one run.
// A run claims it before it reads any data: the directory is created if
// missing and locked for the run's whole life (engine/directory_lock.h), so a
// second run into it fails at once. Files of another run there (its config,
// log, checkpoint or model) are never replaced by accident: the run refuses
// them unless it resumes that directory's own checkpoint (the same run), or
// is told to overwrite them, and then they are removed only once the new run
// has started (its data opened, its model built, every check passed), so a
// run that fails before that loses nothing of the old one. A run that fails
// before it starts removes the directories it created.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/directory_lock.h"

namespace dml::train {

class RunDirectory {
 public:
  // Claims `output` for a run; `resume` is the checkpoint the run resumes
  // ("" for a fresh run). Errors name the directory and the ways out.
  RunDirectory(const std::string& output, bool overwrite, const std::string& resume);
  // Unlocks; before start(), also removes the directories it created.
  ~RunDirectory();
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;

  // The run has started: an overwritten run's files go now.
  void start();
  std::filesystem::path file(const std::string& name) const { return path_ / name; }

 private:
  void remove_created();

  std::filesystem::path path_;
  std::vector<std::filesystem::path> created_;  // outermost first
  std::optional<DirectoryLock> lock_;
  std::vector<std::filesystem::path> replaced_;  // the other run's files, removed by start()
  bool started_ = false;
};

}  // namespace dml::train
