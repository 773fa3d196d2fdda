#include "dml/train/run_eta.h"

#include <algorithm>

namespace dml::train {

void RunEta::steps_done(int64_t steps, double seconds) {
  steps_ += steps;
  step_seconds_ += seconds;
  steps_left_ = std::max<int64_t>(steps_left_ - steps, 0);
}

void RunEta::evaluation_done(double seconds) {
  ++evaluations_;
  evaluation_seconds_ += seconds;
  evaluations_left_ = std::max<int64_t>(evaluations_left_ - 1, 0);
}

double RunEta::seconds_left(int64_t steps, double seconds) const {
  const int64_t done = steps_ + steps;
  const double per_step = done > 0 ? (step_seconds_ + seconds) / double(done) : 0;
  const double per_evaluation = evaluations_ > 0 ? evaluation_seconds_ / double(evaluations_) : 0;
  return per_step * double(std::max<int64_t>(steps_left_ - steps, 0)) +
         per_evaluation * double(evaluations_left_);
}

}  // namespace dml::train
