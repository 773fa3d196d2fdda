#pragma once
// The progress line of a long loop (a training epoch, embedding a split): what
// it is, a bar, units done of the total, images per second, the ETA and a
// detail of the caller's (the loss, the whole run's ETA). On a terminal it
// redraws one line in place; in a log (stdout not a terminal) it prints a
// line every `every` units instead, and at the end, so logs stay readable.
#include <chrono>
#include <cstdint>
#include <string>

namespace dml::train {

// Seconds as hh:mm:ss.
std::string clock_text(double seconds);

class Progress {
 public:
  // `label` heads the line ("epoch 2/10", "embed cub200 test"); `total` units
  // (steps, images) make up the loop.
  Progress(std::string label, int64_t total, int64_t every);
  // After each piece of work: its units and images, and what the line shows
  // after the ETA.
  void advance(int64_t units, int64_t images, const std::string& detail = "");
  // Ends the line on a terminal.
  void finish();
  double images_per_second() const;
  double seconds() const;
  int64_t done() const { return done_; }

 private:
  std::string line(const std::string& detail) const;

  std::string label_;
  int64_t total_, every_, done_ = 0, images_ = 0;
  bool terminal_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace dml::train
