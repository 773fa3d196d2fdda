#include "kernels/cpu/nearest_selection.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <limits>

#include "kernels/cpu/isa.h"

namespace dml::cpu {

namespace {

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

// Below this many keys std::sort beats the radix sort's fixed cost.
constexpr int64_t kRadixSortMin = 256;

// LSD radix sort of 64-bit keys, a byte a pass. Passes over a byte that every
// key shares are skipped: here the high index bytes (N < 2^24 typically) and
// the float's sign and exponent byte, so about five passes remain. For the
// thousands of neighbours MAP@R keeps per query this is ~5x std::sort.
void radix_sort(uint64_t* keys, int64_t n) {
  thread_local std::vector<uint64_t> scratch;  // one per thread, not per query
  int64_t counts[8][256] = {};
  for (int64_t i = 0; i < n; ++i)
    for (int b = 0; b < 8; ++b) ++counts[b][(keys[i] >> (8 * b)) & 0xFF];
  scratch.resize(size_t(n));
  uint64_t *src = keys, *dst = scratch.data();
  for (int b = 0; b < 8; ++b) {
    if (counts[b][(src[0] >> (8 * b)) & 0xFF] == n) continue;
    int64_t offset[256];
    for (int64_t v = 0, sum = 0; v < 256; ++v) {
      offset[v] = sum;
      sum += counts[b][v];
    }
    for (int64_t i = 0; i < n; ++i) dst[offset[(src[i] >> (8 * b)) & 0xFF]++] = src[i];
    std::swap(src, dst);
  }
  if (src != keys) std::copy(src, src + n, keys);
}

#if defined(__x86_64__)
// Appends the keys of the lanes in `take` of 8 (distance bits, index) pairs at
// keys[count]; returns the new count. Writes 8 keys: the caller keeps room.
// (Masked forms with full masks are the plain instructions; GCC 12 warns
// about the undefined source operand of the unmasked ones.)
__attribute__((target("avx512f"), always_inline)) inline int64_t append_keys(
    uint64_t* keys, int64_t count, __mmask8 take, __m256i distance_bits, __m256i indices) {
  const __mmask8 all = 0xFF;
  const __m512i wide = _mm512_or_si512(
      _mm512_maskz_slli_epi64(all, _mm512_maskz_cvtepu32_epi64(all, distance_bits), 32),
      _mm512_maskz_cvtepu32_epi64(all, indices));
  _mm512_storeu_si512(keys + count, _mm512_maskz_compress_epi64(take, wide));
  return count + __builtin_popcount(take);
}
#endif

}  // namespace

void NearestSelection::reset(int64_t k, float threshold) {
  k_ = k;
  count_ = 0;
  threshold_ = k > 0 ? threshold : -std::numeric_limits<float>::infinity();
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

// The hot loop of the whole search (Q x N elements) comes in two builds of
// the same arithmetic. With AVX-512, 16 lanes are compared at once and only
// the lanes below the threshold are visited. The portable loop, which GCC
// vectorises for the baseline ISA, tests blocks of 64 and rescans a block
// that holds a candidate element by element.
#if defined(__x86_64__)
__attribute__((target("avx512f"))) void NearestSelection::scan_avx512(const float* dot,
                                                                      const float* bias,
                                                                      float offset, float scale,
                                                                      int64_t n,
                                                                      int64_t first_index) {
  const __m512 vscale = _mm512_set1_ps(scale), voffset = _mm512_set1_ps(offset);
  const __m512 zero = _mm512_setzero_ps();
  const __m512i kLanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512 threshold = _mm512_set1_ps(threshold_);
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 lanes = j + 16 <= n ? __mmask16(0xFFFF) : __mmask16((1u << (n - j)) - 1);
    const __m512 x =
        _mm512_add_ps(voffset, _mm512_fmadd_ps(vscale, _mm512_maskz_loadu_ps(lanes, dot + j),
                                               _mm512_maskz_loadu_ps(lanes, bias + j)));
    const __m512 d = _mm512_maskz_max_ps(lanes, x, zero);  // x is finite or +inf
    __mmask16 below = _mm512_mask_cmp_ps_mask(lanes, d, threshold, _CMP_LT_OQ);
    if (!below) continue;
    if (count_ + 16 <= int64_t(keys_.size())) {
      // Room for all 16: append the candidates' keys with two compresses
      // (register form, then a full store into the spare room: the memory
      // form of vpcompressq is slow on some AMD cores).
      const __m512i bits = _mm512_castps_si512(d);
      const __m512i index = _mm512_add_epi32(_mm512_set1_epi32(int32_t(first_index + j)), kLanes);
      count_ = append_keys(keys_.data(), count_, __mmask8(below),
                           _mm512_maskz_extracti64x4_epi64(0xF, bits, 0),
                           _mm512_maskz_extracti64x4_epi64(0xF, index, 0));
      count_ = append_keys(keys_.data(), count_, __mmask8(below >> 8),
                           _mm512_maskz_extracti64x4_epi64(0xF, bits, 1),
                           _mm512_maskz_extracti64x4_epi64(0xF, index, 1));
      if (count_ == int64_t(keys_.size())) compact();
      threshold = _mm512_set1_ps(threshold_);
      continue;
    }
    alignas(64) float values[16];
    _mm512_store_ps(values, d);
    while (below) {
      const int lane = __builtin_ctz(below);
      push(values[lane], first_index + j + lane);
      threshold = _mm512_set1_ps(threshold_);  // a compaction may have lowered it
      below &= __mmask16(below - 1) & _mm512_cmp_ps_mask(d, threshold, _CMP_LT_OQ);
    }
  }
}

#else
// No AVX-512 off x86-64: has_avx512() is false there, so this never runs.
void NearestSelection::scan_avx512(const float* dot, const float* bias, float offset, float scale,
                                   int64_t n, int64_t first_index) {
  scan_portable(dot, bias, offset, scale, n, first_index);
}
#endif

void NearestSelection::scan_portable(const float* dot, const float* bias, float offset, float scale,
                                     int64_t n, int64_t first_index) {
  constexpr int64_t kBlock = 64;
  for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
    const int64_t len = std::min(kBlock, n - j0);
    float d[kBlock];
    int below = 0;
    const float threshold = threshold_;
    for (int64_t j = 0; j < len; ++j) {
      const float x = offset + (bias[j0 + j] + scale * dot[j0 + j]);
      d[j] = x > 0.f ? x : 0.f;
      below |= d[j] < threshold;
    }
    if (!below) continue;
    for (int64_t j = 0; j < len; ++j)
      if (d[j] < threshold_) push(d[j], first_index + j0 + j);
  }
}

bool NearestSelection::has_avx512() {
  return active_isa() >= Isa::avx512;
}

void NearestSelection::scan(const float* dot, const float* bias, float offset, float scale,
                            int64_t n, int64_t first_index) {
  if (has_avx512())
    scan_avx512(dot, bias, offset, scale, n, first_index);
  else
    scan_portable(dot, bias, offset, scale, n, first_index);
}

int64_t NearestSelection::finish(int64_t* indices, float* distances) {
  // Long lists are radix-sorted whole (cheaper than nth_element first);
  // short ones keep their k smallest, then sort those.
  if (count_ >= kRadixSortMin) {
    radix_sort(keys_.data(), count_);
    count_ = std::min(count_, k_);
  } else {
    if (count_ > k_) compact();
    std::sort(keys_.begin(), keys_.begin() + count_);
  }
  for (int64_t i = 0; i < count_; ++i) {
    indices[i] = key_index(keys_[size_t(i)]);
    distances[i] = key_distance(keys_[size_t(i)]);
  }
  return count_;
}

}  // namespace dml::cpu
