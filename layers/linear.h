#pragma once
#include "layers/module.h"

namespace dml::nn {

// y = x W^T + b over the last dim; weight [out, in], bias [out].
class Linear final : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

  const int64_t in_features, out_features;
  Tensor weight, bias;  // bias undefined without one
};

}  // namespace dml::nn
