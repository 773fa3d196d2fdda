#include "kernels/cpu/conv2d_columns.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace dml::cpu {

namespace {

#define DML_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))

// Lanes [0, count) of a 16-lane mask.
DML_AVX512 inline __mmask16 lanes(int64_t count) {
  return count >= 16 ? __mmask16(0xFFFF) : count <= 0 ? __mmask16(0) : __mmask16((1u << count) - 1);
}

// Every second float of the 32 at from, in lanes `valid` (a contiguous run of
// lanes) and 0 elsewhere: two masked loads that touch only the floats the
// valid lanes take, and one two-source permute.
DML_AVX512 inline __m512 load_even(const float* from, int64_t lo, int64_t hi) {
  // Floats 2*lo .. 2*hi - 2 (lo < hi <= 16, so no shift reaches 32).
  const uint32_t raw = hi <= lo ? 0u : ((1u << (2 * hi - 1)) - 1) & ~((1u << (2 * lo)) - 1);
  const __m512 a = _mm512_maskz_loadu_ps(__mmask16(raw), from),
               b = _mm512_maskz_loadu_ps(__mmask16(raw >> 16), from + 16);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  return _mm512_permutex2var_ps(a, even, b);
}

// d[ox - x0] for output columns ox in [x0, x1) of one kernel column: the
// input line's element in `range`, 0 outside it. 16 columns a step, the
// padding as masked-off lanes (a masked load does not touch them, so the
// address may point before or past the line). `ahead` floats further on is
// prefetched.
DML_AVX512 void fill_segment(const float* line, const ColumnRange& range, int64_t stride,
                             int64_t x0, int64_t x1, float* d, int64_t ahead) {
  _mm_prefetch(reinterpret_cast<const char*>(line + ahead + range.first_ix), _MM_HINT_T0);
  for (int64_t ox = x0; ox < x1; ox += 16) {
    const int64_t count = std::min<int64_t>(16, x1 - ox);
    const int64_t lo = std::clamp<int64_t>(range.begin - ox, 0, count),
                  hi = std::clamp<int64_t>(range.end - ox, lo, count);
    const float* from = line + range.first_ix + (ox - range.begin) * stride;
    __m512 v;
    if (stride == 1 && lo == 0 && hi == 16) {
      v = _mm512_loadu_ps(from);
    } else if (stride == 1) {
      v = _mm512_maskz_loadu_ps(__mmask16(lanes(hi) & ~lanes(lo)), from);
    } else if (stride == 2) {
      v = load_even(from, lo, hi);
    } else {
      alignas(64) float gathered[16] = {};
      for (int64_t l = lo; l < hi; ++l) gathered[l] = from[l * stride];
      v = _mm512_load_ps(gathered);
    }
    // A masked store is several times slower than a plain one on some CPUs
    // (Zen 4): only a segment's last, partial step takes one.
    if (count == 16)
      _mm512_storeu_ps(d + (ox - x0), v);
    else
      _mm512_mask_storeu_ps(d + (ox - x0), lanes(count), v);
  }
}

DML_AVX512 void fill_zeros(float* d, int64_t count) {
  int64_t i = 0;
  for (; i + 16 <= count; i += 16) _mm512_storeu_ps(d + i, _mm512_setzero_ps());
  if (i < count) _mm512_mask_storeu_ps(d + i, lanes(count - i), _mm512_setzero_ps());
}

}  // namespace

DML_AVX512 void add_to_line(float* line, const float* from, int64_t count, int64_t stride) {
  if (stride > 2) {
    for (int64_t l = 0; l < count; ++l) line[l * stride] += from[l];
    return;
  }
  const __m512i lo_half = _mm512_setr_epi32(0, 16, 1, 16, 2, 16, 3, 16, 4, 16, 5, 16, 6, 16, 7, 16),
                hi_half =
                    _mm512_setr_epi32(8, 16, 9, 16, 10, 16, 11, 16, 12, 16, 13, 16, 14, 16, 15, 16);
  for (int64_t l = 0; l < count; l += 16, line += 16 * stride) {
    const int64_t n = std::min<int64_t>(16, count - l);
    const __m512 v = _mm512_maskz_loadu_ps(lanes(n), from + l);
    if (stride == 1) {
      _mm512_mask_storeu_ps(line, lanes(n),
                            _mm512_add_ps(_mm512_maskz_loadu_ps(lanes(n), line), v));
      continue;
    }
    // Stride 2: the 16 values spread to the even floats of 32, the odd ones
    // (not this kernel column's) gain 0; only floats 0 .. 2n - 2 are touched.
    const uint32_t raw = (1u << (2 * n - 1)) - 1;
    const __mmask16 a = __mmask16(raw), b = __mmask16(raw >> 16);
    const __m512 zero = _mm512_setzero_ps();
    _mm512_mask_storeu_ps(
        line, a,
        _mm512_add_ps(_mm512_maskz_loadu_ps(a, line), _mm512_permutex2var_ps(v, lo_half, zero)));
    _mm512_mask_storeu_ps(line + 16, b,
                          _mm512_add_ps(_mm512_maskz_loadu_ps(b, line + 16),
                                        _mm512_permutex2var_ps(v, hi_half, zero)));
  }
}

ImageColumns::ImageColumns(const kernels::ConvShape& s, const float* x)
    : s_(s), x_(x), g_(group_dims(s)), oh_(s.out_h()), ow_(s.out_w()), ranges_(valid_columns(s)) {}

// Each row is one input channel and kernel tap; its columns run through
// output rows (a line of the input, shifted, strided, padded) and images.
// Called for a few dozen columns at a time, so the indices are stepped
// rather than divided out per row.
DML_AVX512 void ImageColumns::fill(const void* self, int64_t row0, int64_t rows, int64_t col0,
                                   int64_t cols, float* dst, int64_t ld) {
  const ImageColumns& m = *static_cast<const ImageColumns*>(self);
  const kernels::ConvShape& s = m.s_;
  const int64_t image_stride = s.c * m.g_.hw;
  const int64_t img0 = col0 / m.g_.ohw, pix0 = col0 % m.g_.ohw;
  const int64_t oy0 = pix0 / m.ow_, ox0 = pix0 % m.ow_;
  // The GEMM's next call for these rows asks for the next `cols` columns:
  // each segment prefetches the input line that one will read in its place
  // (the image's channels are too many streams for the hardware prefetchers).
  const int64_t ahead = cols / m.ow_ * s.stride_h * s.w;
  int64_t j = row0 % s.kw, i = row0 / s.kw % s.kh, c = row0 / (s.kw * s.kh);
  for (int64_t r = 0; r < rows; ++r) {
    const float* plane = m.x_ + img0 * image_stride + c * m.g_.hw;
    float* d = dst + r * ld;
    if (s.is_pointwise()) {  // the planes themselves, one run per image
      for (int64_t pix = pix0, left = cols; left > 0; pix = 0, plane += image_stride) {
        const int64_t run = std::min(m.g_.ohw - pix, left);
        std::memcpy(d, plane + pix, sizeof(float) * size_t(run));
        d += run;
        left -= run;
      }
    } else {
      const ColumnRange& range = m.ranges_[size_t(j)];
      int64_t iy = oy0 * s.stride_h - s.pad_h + i * s.dil_h, oy = oy0, ox = ox0;
      for (int64_t left = cols; left > 0;) {
        const int64_t run = std::min(m.ow_ - ox, left);
        if (iy < 0 || iy >= s.h)
          fill_zeros(d, run);
        else
          fill_segment(plane + iy * s.w, range, s.stride_w, ox, ox + run, d, ahead);
        d += run;
        left -= run;
        ox = 0;
        iy += s.stride_h;
        if (++oy == m.oh_) {
          oy = 0;
          iy = -s.pad_h + i * s.dil_h;
          plane += image_stride;
        }
      }
    }
    if (++j == s.kw) {
      j = 0;
      if (++i == s.kh) {
        i = 0;
        ++c;
      }
    }
  }
}

}  // namespace dml::cpu
