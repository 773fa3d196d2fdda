#pragma once
// Learning-rate schedules as pure functions of the step: a schedule gives a
// factor, and apply() sets every group's lr to base_lr * factor. Being pure,
// a resumed run lands on the same rate without schedule state.
#include <cstdint>
#include <vector>

#include "engine/optim/optimizer.h"

namespace dml {

class LrSchedule {
 public:
  virtual ~LrSchedule() = default;
  virtual double factor(int64_t step) const = 0;
  void apply(Optimizer& opt, int64_t step) const;
};

// gamma^(step / step_size)
class StepLR final : public LrSchedule {
 public:
  StepLR(int64_t step_size, double gamma);
  double factor(int64_t step) const override;

 private:
  int64_t step_size_;
  double gamma_;
};

// gamma^(number of milestones <= step)
class MultiStepLR final : public LrSchedule {
 public:
  MultiStepLR(std::vector<int64_t> milestones, double gamma);
  double factor(int64_t step) const override;

 private:
  std::vector<int64_t> milestones_;
  double gamma_;
};

// Linear warm-up from 1/warmup to 1 over `warmup` steps, then a cosine from 1
// down to min_factor at `total` steps (held there after).
class CosineWithWarmup final : public LrSchedule {
 public:
  CosineWithWarmup(int64_t warmup, int64_t total, double min_factor = 0);
  double factor(int64_t step) const override;

 private:
  int64_t warmup_, total_;
  double min_factor_;
};

}  // namespace dml
