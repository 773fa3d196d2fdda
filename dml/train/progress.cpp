#include "dml/train/progress.h"

#include <unistd.h>

#include <cstdio>

namespace dml::train {

namespace {

std::string clock_text(double seconds) {
  const long s = long(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

}  // namespace

Progress::Progress(int64_t epoch, int64_t epochs, int64_t steps, int64_t every)
    : epoch_(epoch),
      epochs_(epochs),
      steps_(steps),
      every_(every),
      terminal_(isatty(fileno(stdout))),
      start_(std::chrono::steady_clock::now()) {}

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double Progress::images_per_second() const {
  const double s = seconds();
  return s > 0 ? double(images_) / s : 0;
}

std::string Progress::line() const {
  constexpr int kWidth = 24;
  const int filled = steps_ > 0 ? int(kWidth * done_ / steps_) : kWidth;
  const double eta = done_ > 0 ? seconds() / double(done_) * double(steps_ - done_) : 0;
  char buf[256];
  std::snprintf(buf, sizeof buf, "epoch %lld/%lld [%s%s] %lld/%lld loss %.4f %.1f img/s ETA %s",
                (long long)epoch_, (long long)epochs_, std::string(size_t(filled), '#').c_str(),
                std::string(size_t(kWidth - filled), '.').c_str(), (long long)done_,
                (long long)steps_, recent_loss_, images_per_second(), clock_text(eta).c_str());
  return buf;
}

void Progress::update(double loss, int64_t images) {
  ++done_;
  images_ += images;
  loss_sum_ += loss;
  // A smoothed loss reads better than one noisy batch.
  recent_loss_ = done_ == 1 ? loss : 0.9 * recent_loss_ + 0.1 * loss;
  if (terminal_) {
    std::printf("\r%s", line().c_str());
    std::fflush(stdout);
  } else if (done_ % every_ == 0 || done_ == steps_) {
    std::printf("%s\n", line().c_str());
    std::fflush(stdout);
  }
}

double Progress::finish() {
  if (terminal_) std::printf("\n");
  return done_ > 0 ? loss_sum_ / double(done_) : 0;
}

}  // namespace dml::train
