#pragma once
// Parameter-free layers: each wraps one engine op.
#include "engine/ops.h"
#include "layers/module.h"

namespace dml::nn {

class ReLU final : public Module {
 public:
  Tensor forward(const Tensor& x) override { return relu(x); }
  std::string describe() const override { return "ReLU()"; }
};

class Identity final : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string describe() const override { return "Identity()"; }
};

// Flattens dims from start_dim on ([N, C, 1, 1] -> [N, C] by default).
class Flatten final : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1) : start_dim_(start_dim) {}
  Tensor forward(const Tensor& x) override { return x.flatten(start_dim_); }
  std::string describe() const override;

 private:
  int64_t start_dim_;
};

// Inverted dropout in training, identity in eval.
class Dropout final : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override { return dropout(x, p_, is_training()); }
  std::string describe() const override;

 private:
  double p_;
};

enum class PoolKind { max, average };

// Fixed-window pooling: MaxPool2d and AvgPool2d (count_include_pad, as PyTorch).
template <PoolKind K>
class Pool2d final : public Module {
 public:
  Pool2d(int64_t kernel, int64_t stride, int64_t padding = 0)
      : kernel_(kernel), stride_(stride), padding_(padding) {}
  Tensor forward(const Tensor& x) override {
    return K == PoolKind::max ? max_pool2d(x, kernel_, stride_, padding_)
                              : avg_pool2d(x, kernel_, stride_, padding_);
  }
  std::string describe() const override;

 private:
  int64_t kernel_, stride_, padding_;
};
using MaxPool2d = Pool2d<PoolKind::max>;
using AvgPool2d = Pool2d<PoolKind::average>;

// Pooling to a fixed output size: AdaptiveMaxPool2d and AdaptiveAvgPool2d.
template <PoolKind K>
class AdaptivePool2d final : public Module {
 public:
  AdaptivePool2d(int64_t out_h, int64_t out_w) : out_h_(out_h), out_w_(out_w) {}
  Tensor forward(const Tensor& x) override {
    return K == PoolKind::max ? adaptive_max_pool2d(x, out_h_, out_w_)
                              : adaptive_avg_pool2d(x, out_h_, out_w_);
  }
  std::string describe() const override;

 private:
  int64_t out_h_, out_w_;
};
using AdaptiveMaxPool2d = AdaptivePool2d<PoolKind::max>;
using AdaptiveAvgPool2d = AdaptivePool2d<PoolKind::average>;

// Normalises the last dim (size `features`) with a learned scale and shift.
class LayerNorm final : public Module {
 public:
  explicit LayerNorm(int64_t features, double eps = 1e-5);
  Tensor forward(const Tensor& x) override { return layer_norm(x, weight, bias, eps_); }
  std::string describe() const override;
  Tensor weight, bias;

 private:
  int64_t features_;
  double eps_;
};

}  // namespace dml::nn
