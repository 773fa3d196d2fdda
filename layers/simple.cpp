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

template <PoolKind K>
std::string Pool2d<K>::describe() const {
  return window(K == PoolKind::max ? "MaxPool2d" : "AvgPool2d", kernel_, stride_, padding_);
}
template <PoolKind K>
std::string AdaptivePool2d<K>::describe() const {
  return sized(K == PoolKind::max ? "AdaptiveMaxPool2d" : "AdaptiveAvgPool2d", out_h_, out_w_);
}
template class Pool2d<PoolKind::max>;
template class Pool2d<PoolKind::average>;
template class AdaptivePool2d<PoolKind::max>;
template class AdaptivePool2d<PoolKind::average>;

LayerNorm::LayerNorm(int64_t features, double eps) : features_(features), eps_(eps) {
  DML_CHECK(features > 0, "LayerNorm(", features, "): size must be positive");
  weight = register_parameter("weight", ones({features}));
  bias = register_parameter("bias", zeros({features}));
}
std::string LayerNorm::describe() const {
  return "LayerNorm(" + std::to_string(features_) + ")";
}

}  // namespace dml::nn
