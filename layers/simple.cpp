#include "layers/simple.h"

#include <sstream>

namespace dml::nn {

namespace {
std::string window(const char* name, int64_t k, int64_t s, int64_t p) {
  std::ostringstream os;
  os << name << "(kernel=" << k << ", stride=" << s;
  if (p) os << ", padding=" << p;
  os << ")";
  return os.str();
}
std::string sized(const char* name, int64_t h, int64_t w) {
  return std::string(name) + "(" + std::to_string(h) + ", " + std::to_string(w) + ")";
}
}  // namespace

std::string Flatten::describe() const {
  return "Flatten(start_dim=" + std::to_string(start_dim_) + ")";
}

Dropout::Dropout(double p) : p_(p) {
  DML_CHECK(p >= 0 && p < 1, "Dropout(", p, "): p must be in [0, 1)");
}
std::string Dropout::describe() const {
  std::ostringstream os;
  os << "Dropout(p=" << p_ << ")";
  return os.str();
}

std::string MaxPool2d::describe() const {
  return window("MaxPool2d", kernel_, stride_, padding_);
}
std::string AvgPool2d::describe() const {
  return window("AvgPool2d", kernel_, stride_, padding_);
}
std::string AdaptiveAvgPool2d::describe() const {
  return sized("AdaptiveAvgPool2d", out_h_, out_w_);
}
std::string AdaptiveMaxPool2d::describe() const {
  return sized("AdaptiveMaxPool2d", out_h_, out_w_);
}

LayerNorm::LayerNorm(int64_t features, double eps) : features_(features), eps_(eps) {
  DML_CHECK(features > 0, "LayerNorm(", features, "): size must be positive");
  weight = register_parameter("weight", ones({features}));
  bias = register_parameter("bias", zeros({features}));
}
std::string LayerNorm::describe() const {
  return "LayerNorm(" + std::to_string(features_) + ")";
}

}  // namespace dml::nn
