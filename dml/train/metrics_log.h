#pragma once
// <output>/metrics.jsonl: one JSON object per line, one line per epoch (its
// number as "epoch"), that a run appends after each epoch.
#include <cstdint>
#include <filesystem>

#include "dml/train/config.h"

namespace dml::train {

class MetricsLog {
 public:
  explicit MetricsLog(std::filesystem::path path) : path_(std::move(path)) {}

  // A fresh run starts with no log. A resumed run continues the log of the
  // run it resumes, keeping the lines of the epochs its checkpoint holds.
  void start_fresh();
  void continue_after(int64_t epochs_done);

  // Rewritten whole, atomically: a crash or a full disk while logging leaves
  // the previous lines intact, never a torn last line.
  void append(const Json& line);
  // The last line's object; an empty object when there is none.
  Json last() const;

 private:
  std::filesystem::path path_;
};

}  // namespace dml::train
