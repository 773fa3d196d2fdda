#include "layers/batch_norm.h"

#include "engine/autograd.h"
#include "engine/ops.h"
#include "layers/channels_last_scope.h"

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

namespace {

// Channels-last activations [N, H, W, C] as the [N * H * W, C, 1, 1] the
// batch norm ops take (a view: the same bytes), and back.
Tensor as_channel_rows(const Tensor& x) {
  if (!x.defined() || !channels_last_active()) return x;
  DML_CHECK(x.dim() == 4, "BatchNorm2d: channels-last input ", describe(x),
            " must be [N, H, W, C]");
  return x.reshape({x.size(0) * x.size(1) * x.size(2), x.size(3), 1, 1});
}
Tensor from_channel_rows(const Tensor& y, const Tensor& x) {
  return channels_last_active() ? y.reshape(x.shape()) : y;
}

}  // namespace

Tensor BatchNorm2d::forward(const Tensor& x) {
  const bool batch_stats = begin_forward();
  return from_channel_rows(batch_norm2d(as_channel_rows(x), weight, bias, running_mean, running_var,
                                        batch_stats, momentum, eps),
                           x);
}

Tensor BatchNorm2d::forward_relu(const Tensor& x, const Tensor& residual) {
  const bool batch_stats = begin_forward();
  return from_channel_rows(
      batch_norm2d_relu(as_channel_rows(x), weight, bias, running_mean, running_var, batch_stats,
                        momentum, eps, as_channel_rows(residual)),
      x);
}

std::string BatchNorm2d::describe() const {
  return "BatchNorm2d(" + std::to_string(channels) + (frozen_ ? ", frozen)" : ")");
}

}  // namespace dml::nn
