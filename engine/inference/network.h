#pragma once
// A feed-forward convolutional network for inference, as a list of steps on
// channels-last (NHWC) activations that know nothing of any architecture:
// folded convolutions (bias, optional residual, optional ReLU in one
// epilogue), max pooling, and an embedding head. A Plan fixes, for one input
// shape and thread count, every value's shape and its place in one arena
// (engine/inference/memory_plan.h); run() then allocates nothing. A large
// batch runs in passes of a few images, so the arena stays the size of a pass.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/inference/embedding_head.h"
#include "engine/inference/memory_plan.h"

namespace dml::inference {

// A convolution with its batch norm folded in. weight: [kernel * kernel *
// in_channels, out_channels], rows in (ky, kx, c) order; bias: [out_channels].
struct FoldedConv {
  int64_t in_channels = 0, out_channels = 0, kernel = 1, stride = 1, padding = 0;
  std::vector<float> weight, bias;
};

using ValueId = int64_t;
constexpr ValueId kNoValue = -1;

struct ValueShape {
  int64_t height, width, channels;
};

struct Plan {
  int64_t batch = 0, height = 0, width = 0;
  int64_t pass = 0;  // images per pass through the network; the arena holds one pass
  int threads = 1;
  std::vector<ValueShape> shapes;  // per value
  std::vector<int64_t> offsets;    // per value, floats into the arena
  int64_t scratch_offset = 0;      // im2col blocks and the head's pooled features
  int64_t arena_floats = 0;
};

class Network {
 public:
  // The input: NCHW images of `in_channels` channels, taken to NHWC as value 0.
  explicit Network(int64_t in_channels);

  static constexpr ValueId input() { return 0; }
  // Each step is named (a tensor-name prefix) for its errors and gives its
  // output's id.
  ValueId conv(std::string name, ValueId x, FoldedConv conv, ValueId residual, bool relu);
  ValueId max_pool(std::string name, ValueId x, int64_t kernel, int64_t stride, int64_t padding);
  // The last step; its input is the network's feature map.
  void head(ValueId x, EmbeddingHead head);

  int64_t in_channels() const { return in_channels_; }
  int64_t embedding_dim() const { return head_.dim(); }

  // Throws dml::Error naming the first step whose output would be empty.
  Plan plan(int64_t batch, int64_t height, int64_t width, int threads) const;
  // images: NCHW [batch, in_channels, height, width]; out: [batch, embedding_dim];
  // arena: plan.arena_floats floats, 64-byte aligned. Runs plan.pass images at
  // a time.
  void run(const Plan& plan, float* arena, const float* images, float* out) const;

 private:
  // winograd: a 3x3 stride-1 convolution by kernels/cpu/conv_winograd.h, its
  // weights held transformed.
  enum class Kind { conv, winograd, max_pool };
  struct Step {
    Kind kind;
    std::string name;
    ValueId x, residual, out;
    // The convolution (its weights transformed for Kind::winograd), or the
    // pooling's window (kernel, stride, padding).
    FoldedConv conv;
    bool relu;
  };

  ValueId add_value(int64_t channels);
  void check_value(ValueId v, const std::string& step) const;
  // The planning steps: every value's shape and the steps that write and last
  // read it; the pass size; buffers shared by a sum and its residual; scratch.
  std::vector<Lifetime> shape_values(Plan& plan) const;
  static int64_t images_per_pass(int64_t batch, const ValueShape& last_map);
  std::vector<size_t> share_residual_buffers(std::vector<Lifetime>& lives) const;
  int64_t scratch_floats(const Plan& plan) const;
  void run_pass(const Plan& plan, float* arena, const float* images, int64_t n, float* out) const;

  int64_t in_channels_;
  std::vector<int64_t> channels_;  // per value
  std::vector<Step> steps_;
  ValueId head_input_ = kNoValue;
  EmbeddingHead head_;
};

}  // namespace dml::inference
