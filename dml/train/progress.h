#pragma once
// The training progress line: epoch, step, running loss, images per second
// and the epoch's ETA. On a terminal it redraws one line in place; in a log
// (stdout not a terminal) it prints a line every `every` steps instead, so
// logs stay readable.
#include <chrono>
#include <cstdint>
#include <string>

namespace dml::train {

class Progress {
 public:
  Progress(int64_t epoch, int64_t epochs, int64_t steps, int64_t every);
  // After each step: the step's loss and the images it used.
  void update(double loss, int64_t images);
  // Ends the line; returns the epoch's mean loss.
  double finish();
  double images_per_second() const;
  double seconds() const;

 private:
  std::string line() const;

  int64_t epoch_, epochs_, steps_, every_, done_ = 0, images_ = 0;
  double loss_sum_ = 0, recent_loss_ = 0;
  bool terminal_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace dml::train
