#pragma once
#include "engine/ops.h"
#include "layers/module.h"

namespace dml::nn {

struct Conv2dSpec {
  int64_t in_channels, out_channels, kernel;
  int64_t stride = 1, padding = 0, dilation = 1, groups = 1;
  bool bias = true;
};

// Square-kernel 2-D convolution over NCHW; weight [out, in / groups, k, k].
class Conv2d final : public Module {
 public:
  explicit Conv2d(const Conv2dSpec& spec);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

  const Conv2dSpec spec;
  Tensor weight, bias;  // bias undefined without one
};

}  // namespace dml::nn
