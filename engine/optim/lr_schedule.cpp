#include "engine/optim/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace dml {

void LrSchedule::apply(Optimizer& opt, int64_t step) const {
  double f = factor(step);
  for (ParamGroup& g : opt.groups()) g.lr = g.base_lr * f;
}

StepLR::StepLR(int64_t step_size, double gamma) : step_size_(step_size), gamma_(gamma) {
  DML_CHECK(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
}
double StepLR::factor(int64_t step) const {
  return std::pow(gamma_, double(step / step_size_));
}

MultiStepLR::MultiStepLR(std::vector<int64_t> milestones, double gamma)
    : milestones_(std::move(milestones)), gamma_(gamma) {
  DML_CHECK(std::is_sorted(milestones_.begin(), milestones_.end()),
            "MultiStepLR: milestones must be increasing");
}
double MultiStepLR::factor(int64_t step) const {
  auto passed =
      std::upper_bound(milestones_.begin(), milestones_.end(), step) - milestones_.begin();
  return std::pow(gamma_, double(passed));
}

CosineWithWarmup::CosineWithWarmup(int64_t warmup, int64_t total, double min_factor)
    : warmup_(warmup), total_(total), min_factor_(min_factor) {
  DML_CHECK(warmup >= 0 && total > warmup, "CosineWithWarmup: need 0 <= warmup (", warmup,
            ") < total (", total, ")");
}
double CosineWithWarmup::factor(int64_t step) const {
  if (step < warmup_) return double(step + 1) / double(warmup_);
  double t = std::min(1.0, double(step - warmup_) / double(total_ - warmup_));
  return min_factor_ + (1 - min_factor_) * 0.5 * (1 + std::cos(M_PI * t));
}

}  // namespace dml
