#include "layers/batch_norm.h"

#include "engine/autograd.h"
#include "engine/ops.h"

namespace dml::nn {

BatchNorm2d::BatchNorm2d(int64_t c, double e, double m) : channels(c), eps(e), momentum(m) {
  DML_CHECK(c > 0, "BatchNorm2d(", c, "): channels must be positive");
  weight = register_parameter("weight", ones({c}));
  bias = register_parameter("bias", zeros({c}));
  running_mean = register_buffer("running_mean", zeros({c}));
  running_var = register_buffer("running_var", ones({c}));
  num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, DType::i64));
}

bool BatchNorm2d::begin_forward() {
  const bool batch_stats = is_training() && !frozen_;
  if (batch_stats) {
    // Counted where the buffer lives: reading it back to the host would make
    // a GPU run wait for the device once per layer per step. Exact below 2^53.
    NoGradGuard no_grad;
    copy_into(num_batches_tracked, add(num_batches_tracked.to(DType::f64), 1.0).to(DType::i64));
  }
  return batch_stats;
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  const bool batch_stats = begin_forward();
  return batch_norm2d(x, weight, bias, running_mean, running_var, batch_stats, momentum, eps);
}

Tensor BatchNorm2d::forward_relu(const Tensor& x, const Tensor& residual) {
  const bool batch_stats = begin_forward();
  return batch_norm2d_relu(x, weight, bias, running_mean, running_var, batch_stats, momentum, eps,
                           residual);
}

std::string BatchNorm2d::describe() const {
  return "BatchNorm2d(" + std::to_string(channels) + (frozen_ ? ", frozen)" : ")");
}

}  // namespace dml::nn
