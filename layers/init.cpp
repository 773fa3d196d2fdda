#include "layers/init.h"

#include <cmath>

#include "engine/ops.h"

namespace dml::nn {

Tensor uniform_init(const Shape& shape, double bound) {
  return (rand(shape) * (2 * bound) - bound).detach();
}

Tensor normal_init(const Shape& shape, double gain, int64_t fan) {
  return (randn(shape) * std::sqrt(gain / double(fan))).detach();
}

}  // namespace dml::nn
