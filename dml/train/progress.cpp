#include "dml/train/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace dml::train {

std::string clock_text(double seconds) {
  const long s = long(std::max(seconds, 0.0) + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

Progress::Progress(std::string label, int64_t total, int64_t every)
    : label_(std::move(label)),
      total_(total),
      every_(std::max<int64_t>(every, 1)),
      terminal_(isatty(fileno(stdout))),
      start_(std::chrono::steady_clock::now()) {}

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double Progress::images_per_second() const {
  const double s = seconds();
  return s > 0 ? double(images_) / s : 0;
}

std::string Progress::line(const std::string& detail) const {
  constexpr int kWidth = 24;
  const int filled = total_ > 0 ? int(kWidth * std::min(done_, total_) / total_) : kWidth;
  const double eta = done_ > 0 ? seconds() / double(done_) * double(total_ - done_) : 0;
  char buf[512];
  std::snprintf(buf, sizeof buf, "%s [%s%s] %lld/%lld %.1f img/s ETA %s%s%s", label_.c_str(),
                std::string(size_t(filled), '#').c_str(),
                std::string(size_t(kWidth - filled), '.').c_str(), (long long)done_,
                (long long)total_, images_per_second(), clock_text(eta).c_str(),
                detail.empty() ? "" : ", ", detail.c_str());
  return buf;
}

void Progress::advance(int64_t units, int64_t images, const std::string& detail) {
  const int64_t before = done_;
  done_ += units;
  images_ += images;
  if (terminal_) {
    std::printf("\r%s", line(detail).c_str());
    std::fflush(stdout);
  } else if (done_ / every_ != before / every_ || done_ == total_) {
    std::printf("%s\n", line(detail).c_str());
    std::fflush(stdout);
  }
}

void Progress::finish() {
  if (terminal_ && done_ > 0) std::printf("\n");
}

}  // namespace dml::train
