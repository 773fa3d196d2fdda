#pragma once
#include "layers/module.h"

namespace dml::nn {

// Batch normalisation over NCHW channels with PyTorch's buffers
// (running_mean, running_var, num_batches_tracked). Frozen: the running
// statistics normalise and are not updated even in training, as the DML
// protocol trains ImageNet-pretrained backbones; weight and bias still learn.
class BatchNorm2d final : public Module {
 public:
  explicit BatchNorm2d(int64_t channels, double eps = 1e-5, double momentum = 0.1);
  Tensor forward(const Tensor& x) override;
  // relu(forward(x) + residual) in one fused op (batch_norm2d_relu), the
  // residual optional: what a ResNet block runs after each convolution.
  Tensor forward_relu(const Tensor& x, const Tensor& residual = {});
  std::string describe() const override;
  void set_frozen(bool frozen) { frozen_ = frozen; }
  bool frozen() const { return frozen_; }

  const int64_t channels;
  const double eps, momentum;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  // Whether this forward normalises with batch statistics; counts the batch
  // when it does.
  bool begin_forward();

  bool frozen_ = false;
};

}  // namespace dml::nn
