#pragma once
// The last step of an inference network: global pooling of the final feature
// map, an optional layer norm, a linear map to the embedding and an optional
// L2 normalisation, on raw pointers.
#include <cstdint>
#include <vector>

namespace dml::inference {

enum class Pooling { average, max, average_plus_max };

struct EmbeddingHead {
  Pooling pooling = Pooling::average;
  std::vector<float> norm_weight, norm_bias;  // [features] each; empty: no layer norm
  float norm_eps = 1e-5f;
  std::vector<float> weight;  // [features, dim]: the Linear's weight transposed
  std::vector<float> bias;    // [dim]
  bool normalize = true;      // x / max(||x||, 1e-12), as the training engine

  int64_t features() const { return int64_t(bias.empty() ? 0 : weight.size() / bias.size()); }
  int64_t dim() const { return int64_t(bias.size()); }
};

// Floats of scratch run_head needs for n images.
int64_t head_scratch_floats(const EmbeddingHead& head, int64_t n);

// x: [n, hw, features] (NHWC feature map); out: [n, dim].
void run_head(const EmbeddingHead& head, const float* x, int64_t n, int64_t hw, float* scratch,
              float* out);

}  // namespace dml::inference
