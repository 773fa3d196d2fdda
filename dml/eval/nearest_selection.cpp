#include "dml/eval/nearest_selection.h"

#include <algorithm>
#include <bit>
#include <limits>

namespace dml::eval {

namespace {

// Scan blocks: the distances of one block are computed and tested together,
// and only a block with a candidate is looked at element by element.
constexpr int64_t kScanBlock = 64;
// Room above k before a compaction: small k would otherwise compact often.
constexpr int64_t kSlack = 64;

uint64_t make_key(float distance, int64_t index) {
  return (uint64_t(std::bit_cast<uint32_t>(distance)) << 32) | uint64_t(index);
}
float key_distance(uint64_t key) {
  return std::bit_cast<float>(uint32_t(key >> 32));
}
int64_t key_index(uint64_t key) {
  return int64_t(key & 0xFFFFFFFFu);
}

}  // namespace

void NearestSelection::reset(int64_t k) {
  k_ = k;
  count_ = 0;
  // The buffer fills before the first compaction sets a real threshold.
  threshold_ =
      k > 0 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
  keys_.resize(size_t(2 * k + kSlack));
}

void NearestSelection::push(float distance, int64_t index) {
  keys_[size_t(count_++)] = make_key(distance, index);
  if (count_ == int64_t(keys_.size())) compact();
}

void NearestSelection::compact() {
  std::nth_element(keys_.begin(), keys_.begin() + (k_ - 1), keys_.begin() + count_);
  count_ = k_;
  threshold_ = key_distance(keys_[size_t(k_ - 1)]);
}

// The hot loop of the whole search (N x Q elements), compiled for AVX-512
// and for the baseline ISA and picked at load time; the first loop of each
// block vectorises to one compare per 16 lanes.
__attribute__((target_clones("avx512f", "default"))) void NearestSelection::scan(
    const float* dot, const float* bias, float offset, float scale, int64_t n,
    int64_t first_index) {
  for (int64_t j0 = 0; j0 < n; j0 += kScanBlock) {
    float d[kScanBlock];
    const float threshold = threshold_;
    if (j0 + kScanBlock <= n) {
      int below = 0;
      for (int64_t j = 0; j < kScanBlock; ++j) {
        const float x = offset + (bias[j0 + j] + scale * dot[j0 + j]);
        d[j] = x > 0.f ? x : 0.f;
        below |= d[j] < threshold;
      }
      if (!below) continue;
    }
    const int64_t len = std::min(kScanBlock, n - j0);
    for (int64_t j = 0; j < len; ++j) {
      if (j0 + kScanBlock > n) {  // the tail block was not computed above
        const float x = offset + (bias[j0 + j] + scale * dot[j0 + j]);
        d[j] = x > 0.f ? x : 0.f;
      }
      if (d[j] < threshold_) push(d[j], first_index + j0 + j);
    }
  }
}

int64_t NearestSelection::finish(int64_t* indices, float* distances) {
  if (count_ > k_) compact();
  std::sort(keys_.begin(), keys_.begin() + count_);
  for (int64_t i = 0; i < count_; ++i) {
    indices[i] = key_index(keys_[size_t(i)]);
    distances[i] = key_distance(keys_[size_t(i)]);
  }
  return count_;
}

}  // namespace dml::eval
