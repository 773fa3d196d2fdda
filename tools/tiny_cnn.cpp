#include "tools/tiny_cnn.h"

#include <cmath>

#include "engine/ops.h"

namespace dml::tools {

namespace {

// Normal(0, std) weights as a leaf that requires grad. gain 2 (He et al. 2015)
// keeps activations' variance steady through a relu; gain 1 suits a layer
// with no nonlinearity after it.
Tensor kaiming_normal(const Shape& shape, int64_t fan_in, double gain, Generator& gen) {
  Tensor w = randn(shape, DType::f32, &gen) * std::sqrt(gain / double(fan_in));
  return w.requires_grad_();
}

Tensor trainable(Tensor t) {
  return t.requires_grad_();
}

}  // namespace

ConvBnBlock::ConvBnBlock(int64_t in, int64_t out, Generator& gen)
    : conv_weight(kaiming_normal({out, in, 3, 3}, in * 9, 2.0, gen)),
      bn_weight(trainable(ones({out}))),
      bn_bias(trainable(zeros({out}))),
      running_mean(zeros({out})),
      running_var(ones({out})) {}

Tensor ConvBnBlock::forward(const Tensor& x, bool training) const {
  Tensor y = conv2d(x, conv_weight, {}, Conv2dOptions::square(/*stride=*/1, /*pad=*/1));
  y = batch_norm2d(y, bn_weight, bn_bias, running_mean, running_var, training);
  return max_pool2d(relu(y), /*kernel=*/2, /*stride=*/2);
}

TinyCnn::TinyCnn(int64_t in_channels, int64_t classes, Generator& gen)
    : block1_(in_channels, 16, gen),
      block2_(16, 32, gen),
      fc_weight_(kaiming_normal({classes, 32}, 32, 1.0, gen)),
      fc_bias_(trainable(zeros({classes}))) {}

Tensor TinyCnn::forward(const Tensor& x, bool training) const {
  Tensor h = block2_.forward(block1_.forward(x, training), training);
  h = adaptive_avg_pool2d(h, 1, 1).flatten(1);  // [n, 32]
  return linear(h, fc_weight_, fc_bias_);
}

std::vector<Tensor> TinyCnn::parameters() const {
  std::vector<Tensor> p;
  for (const ConvBnBlock* b : {&block1_, &block2_})
    p.insert(p.end(), {b->conv_weight, b->bn_weight, b->bn_bias});
  p.insert(p.end(), {fc_weight_, fc_bias_});
  return p;
}

}  // namespace dml::tools
