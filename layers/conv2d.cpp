#include "layers/conv2d.h"

#include <cmath>

#include "engine/channels_last.h"
#include "layers/channels_last_scope.h"
#include "layers/init.h"

namespace dml::nn {

Conv2d::Conv2d(const Conv2dSpec& s) : spec(s) {
  DML_CHECK(s.in_channels > 0 && s.out_channels > 0 && s.kernel > 0 && s.groups > 0 &&
                s.in_channels % s.groups == 0 && s.out_channels % s.groups == 0,
            "Conv2d(", s.in_channels, ", ", s.out_channels, ", kernel=", s.kernel,
            ", groups=", s.groups, "): channels must be positive multiples of groups");
  const int64_t fan_in = s.in_channels / s.groups * s.kernel * s.kernel;
  const double bound = 1.0 / std::sqrt(double(fan_in));
  weight = register_parameter(
      "weight",
      uniform_init({s.out_channels, s.in_channels / s.groups, s.kernel, s.kernel}, bound));
  if (s.bias) bias = register_parameter("bias", uniform_init({s.out_channels}, bound));
}

Tensor Conv2d::forward(const Tensor& x) {
  const auto options = Conv2dOptions::square(spec.stride, spec.padding, spec.dilation, spec.groups);
  return channels_last_active() ? conv2d_channels_last(x, weight, bias, options)
                                : conv2d(x, weight, bias, options);
}

std::string Conv2d::describe() const {
  std::string d = "Conv2d(" + std::to_string(spec.in_channels) + ", " +
                  std::to_string(spec.out_channels) + ", kernel=" + std::to_string(spec.kernel);
  if (spec.stride != 1) d += ", stride=" + std::to_string(spec.stride);
  if (spec.padding != 0) d += ", padding=" + std::to_string(spec.padding);
  if (spec.dilation != 1) d += ", dilation=" + std::to_string(spec.dilation);
  if (spec.groups != 1) d += ", groups=" + std::to_string(spec.groups);
  return d + (spec.bias ? ")" : ", bias=false)");
}

}  // namespace dml::nn
