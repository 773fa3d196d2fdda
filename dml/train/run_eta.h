#pragma once
// A training run's remaining time, from its own rate so far: the steps left
// at the mean time of the steps done, plus the evaluations left at the mean
// time of those done (none counted before the first has run).
#include <cstdint>

namespace dml::train {

class RunEta {
 public:
  // What is left of the run: its steps and evaluations.
  RunEta(int64_t steps, int64_t evaluations) : steps_left_(steps), evaluations_left_(evaluations) {}
  void steps_done(int64_t steps, double seconds);
  void evaluation_done(double seconds);
  // The seconds left, counting `steps` more steps of the epoch under way
  // that took `seconds` so far.
  double seconds_left(int64_t steps = 0, double seconds = 0) const;

 private:
  int64_t steps_left_, evaluations_left_, steps_ = 0, evaluations_ = 0;
  double step_seconds_ = 0, evaluation_seconds_ = 0;
};

}  // namespace dml::train
