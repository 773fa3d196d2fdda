#pragma once
// The demo's model: a tiny CNN written directly with engine ops on explicit
// parameter tensors. Stand-in until the layers library provides modules.
//   conv 3x3 (C_in -> 16) - batch norm - relu - max pool 2
//   conv 3x3 (16 -> 32)   - batch norm - relu - max pool 2
//   global average pool - linear (32 -> classes)
#include <cstdint>
#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace dml::tools {

// Convolution (no bias: the batch norm shift after it makes one redundant)
// followed by batch norm with its running statistics.
struct ConvBnBlock {
  Tensor conv_weight;                // [out, in, 3, 3]
  Tensor bn_weight, bn_bias;         // [out], trained
  Tensor running_mean, running_var;  // [out], updated by training forward passes

  ConvBnBlock(int64_t in, int64_t out, Generator& gen);
  // conv - batch norm - relu - 2x2 max pool.
  Tensor forward(const Tensor& x, bool training) const;
};

class TinyCnn {
 public:
  TinyCnn(int64_t in_channels, int64_t classes, Generator& gen);

  // x: f32 [n, in_channels, h, w] -> logits [n, classes]. Training mode uses
  // batch statistics and updates the running ones; eval mode uses them.
  Tensor forward(const Tensor& x, bool training) const;
  // The trained tensors, for the optimizer (running statistics excluded).
  std::vector<Tensor> parameters() const;

 private:
  ConvBnBlock block1_, block2_;
  Tensor fc_weight_, fc_bias_;  // [classes, 32], [classes]
};

}  // namespace dml::tools
