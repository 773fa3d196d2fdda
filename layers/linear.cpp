#include "layers/linear.h"

#include <cmath>

#include "engine/ops.h"
#include "layers/init.h"

namespace dml::nn {

Linear::Linear(int64_t in, int64_t out, bool with_bias) : in_features(in), out_features(out) {
  DML_CHECK(in > 0 && out > 0, "Linear(", in, ", ", out, "): sizes must be positive");
  const double bound = 1.0 / std::sqrt(double(in));
  weight = register_parameter("weight", uniform_init({out, in}, bound));
  if (with_bias) bias = register_parameter("bias", uniform_init({out}, bound));
}

Tensor Linear::forward(const Tensor& x) {
  return linear(x, weight, bias);
}

std::string Linear::describe() const {
  return "Linear(" + std::to_string(in_features) + ", " + std::to_string(out_features) +
         (bias.defined() ? "" : ", bias=false") + ")";
}

}  // namespace dml::nn
