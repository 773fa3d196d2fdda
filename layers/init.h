#pragma once
// Weight initialisation as PyTorch's layers do it, drawn from the engine's
// default generator (seed it with dml::manual_seed for repeatable models).
#include "engine/tensor.h"

namespace dml::nn {

// U(-bound, bound): PyTorch's default for Linear and Conv2d weights and
// biases uses bound = 1 / sqrt(fan_in).
Tensor uniform_init(const Shape& shape, double bound);
// N(0, gain / fan): He et al. (2015), the torchvision ResNet convolutions'
// init with fan = fan_out and gain 2.
Tensor normal_init(const Shape& shape, double gain, int64_t fan);

}  // namespace dml::nn
