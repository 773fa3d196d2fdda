#include "engine/inference/embedding_head.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/pool_nhwc.h"

namespace dml::inference {

namespace {

cpu::GlobalPoolKind pool_kind(Pooling p) {
  switch (p) {
    case Pooling::max:
      return cpu::GlobalPoolKind::max;
    case Pooling::average_plus_max:
      return cpu::GlobalPoolKind::average_plus_max;
    case Pooling::average:
      break;
  }
  return cpu::GlobalPoolKind::average;
}

// Each row (x - mean) / sqrt(var + eps) * weight + bias, the biased variance
// as layer norm takes it; statistics accumulated in double.
void layer_norm_rows(const EmbeddingHead& head, float* x, int64_t n) {
  const int64_t c = head.features();
  for (int64_t i = 0; i < n; ++i) {
    float* row = x + i * c;
    double sum = 0;
    for (int64_t j = 0; j < c; ++j) sum += row[j];
    const double mean = sum / double(c);
    double squares = 0;
    for (int64_t j = 0; j < c; ++j) squares += (row[j] - mean) * (row[j] - mean);
    const double inv = 1.0 / std::sqrt(squares / double(c) + double(head.norm_eps));
    for (int64_t j = 0; j < c; ++j)
      row[j] =
          float((row[j] - mean) * inv) * head.norm_weight[size_t(j)] + head.norm_bias[size_t(j)];
  }
}

void l2_normalize_rows(float* x, int64_t n, int64_t d) {
  for (int64_t i = 0; i < n; ++i) {
    float* row = x + i * d;
    double squares = 0;
    for (int64_t j = 0; j < d; ++j) squares += double(row[j]) * row[j];
    const float norm = std::max(float(std::sqrt(squares)), 1e-12f);
    for (int64_t j = 0; j < d; ++j) row[j] /= norm;
  }
}

}  // namespace

int64_t head_scratch_floats(const EmbeddingHead& head, int64_t n) {
  return n * head.features();
}

void run_head(const EmbeddingHead& head, const float* x, int64_t n, int64_t hw, float* scratch,
              float* out) {
  const int64_t c = head.features(), d = head.dim();
  cpu::global_pool_nhwc(x, n, hw, c, pool_kind(head.pooling), scratch);
  if (!head.norm_weight.empty()) layer_norm_rows(head, scratch, n);
  for (int64_t i = 0; i < n; ++i) std::copy_n(head.bias.data(), d, out + i * d);
  cpu::gemm<float>(false, false, n, d, c, 1.f, scratch, c, head.weight.data(), d, 1.f, out, d);
  if (head.normalize) l2_normalize_rows(out, n, d);
}

}  // namespace dml::inference
