#pragma once
// <output>/metrics.jsonl: one JSON object per line, one line per epoch (its
// number as "epoch"), that a run records after each epoch.
#include <cstdint>
#include <filesystem>
#include <vector>

#include "dml/train/config.h"

namespace dml::train {

class MetricsLog {
 public:
  // A fresh run's log, empty until its first epoch is recorded. An empty
  // path keeps the lines without writing them (ranks other than 0).
  explicit MetricsLog(std::filesystem::path path) : path_(std::move(path)) {}

  // A resumed run continues the log of the run it resumes (`previous`, the
  // log beside its checkpoint: this same file when it resumes into its own
  // directory), keeping the lines of the epochs its checkpoint holds. Read
  // only: write() puts them in this log.
  void continue_from(const std::filesystem::path& previous, int64_t epochs_done);
  void write() const;

  // The epoch's line: it replaces a line of that epoch recorded before (the
  // epoch's evaluation finished), or is appended. Rewritten whole,
  // atomically: a crash or a full disk while logging leaves the previous
  // lines intact, never a torn last line.
  void record(const Json& line);
  // The last line's object; an empty object when there is none.
  Json last() const;

 private:
  std::filesystem::path path_;
  std::vector<Json> lines_;
};

}  // namespace dml::train
