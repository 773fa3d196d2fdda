#include "kernels/cpu/conv2d.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/parallel.h"
#include "kernels/cpu/bf16_widen.h"
#include "kernels/cpu/conv_winograd_nchw.h"
#include "kernels/cpu/gemm.h"

namespace dml::cpu {

namespace {

struct GroupDims {
  int64_t cg, og, k, hw, ohw;  // channels, outputs, column rows, input/output plane size
};
GroupDims group_dims(const ConvShape& s) {
  int64_t cg = s.c / s.groups;
  return {cg, s.o / s.groups, cg * s.kh * s.kw, s.h * s.w, s.out_h() * s.out_w()};
}

// Images per GEMM. A GEMM per image repacks the weights every time and is
// narrow on small feature maps (2x2 in a ResNet-18's last stage at 64 px),
// so images are batched into one GEMM of count * OH*OW columns, as many as
// keep the column buffer under this many elements (32 MiB in f32).
constexpr int64_t kColumnBudget = int64_t(8) << 20;

int64_t images_per_gemm(const ConvShape& s, const GroupDims& g) {
  return std::clamp<int64_t>(kColumnBudget / std::max<int64_t>(g.k * g.ohw, 1), 1,
                             std::max<int64_t>(s.n, 1));
}

// A run of `count` images starting at `first`, within one group.
struct Chunk {
  int64_t first, count, group;
};

// The output columns ox in [begin, end) whose input column
// ix = ox*sw - pw + j*dw lies inside the image, for kernel column j; first_ix
// is the input column of ox = begin. Outside that range im2col writes zeros.
struct ColumnRange {
  int64_t begin, end, first_ix;
};
ColumnRange valid_column_range(const ConvShape& s, int64_t j) {
  const int64_t ow = s.out_w(), offset = j * s.dil_w - s.pad_w;  // ix = ox*sw + offset
  int64_t begin = offset >= 0 ? 0 : (-offset + s.stride_w - 1) / s.stride_w;
  int64_t end = s.w - offset <= 0 ? 0 : (s.w - offset + s.stride_w - 1) / s.stride_w;
  begin = std::min(begin, ow);
  end = std::clamp(end, begin, ow);
  return {begin, end, begin * s.stride_w + offset};
}

// One range per kernel column, computed before the parallel loops.
std::vector<ColumnRange> valid_columns(const ConvShape& s) {
  std::vector<ColumnRange> ranges(size_t(s.kw));
  for (int64_t j = 0; j < s.kw; ++j) ranges[size_t(j)] = valid_column_range(s, j);
  return ranges;
}

// col[(c*kh + i)*kw + j, img*OHW + oy*OW + ox] = x[first + img, group*cg + c, iy, ix] with
// iy = oy*sh - ph + i*dh, ix = ox*sw - pw + j*dw, or 0 outside the image.
template <class T>
void im2col(const ConvShape& s, const GroupDims& g, const Chunk& ch, const T* x, T* col) {
  const int64_t oh = s.out_h(), ow = s.out_w(), ld = ch.count * g.ohw;
  const std::vector<ColumnRange> ranges = valid_columns(s);
  parallel_for(
      g.k * ch.count,
      [&](int64_t r) {
        const int64_t row = r / ch.count, img = r % ch.count;
        const int64_t j = row % s.kw, i = (row / s.kw) % s.kh, c = row / (s.kw * s.kh);
        const T* src = x + ((ch.first + img) * s.c + ch.group * g.cg + c) * g.hw;
        T* dst = col + row * ld + img * g.ohw;
        if (s.is_pointwise()) {
          std::memcpy(dst, src, sizeof(T) * g.hw);
          return;
        }
        const ColumnRange cols = ranges[size_t(j)];
        for (int64_t oy = 0; oy < oh; ++oy) {
          const int64_t iy = oy * s.stride_h - s.pad_h + i * s.dil_h;
          T* d = dst + oy * ow;
          if (iy < 0 || iy >= s.h) {
            std::memset(d, 0, sizeof(T) * ow);
            continue;
          }
          const T* line = src + iy * s.w + cols.first_ix;
          std::fill(d, d + cols.begin, T(0));
          if (s.stride_w == 1)
            std::memcpy(d + cols.begin, line, sizeof(T) * (cols.end - cols.begin));
          else
            for (int64_t ox = cols.begin; ox < cols.end; ++ox)
              d[ox] = line[(ox - cols.begin) * s.stride_w];
          std::fill(d + cols.end, d + ow, T(0));
        }
      },
      16);
}

// The adjoint of im2col: dx = the sum of col's entries over the positions
// each input element fed. Parallel over (image, channel) planes, which no
// two tasks share; each task zeroes its plane first.
template <class T>
void col2im(const ConvShape& s, const GroupDims& g, const Chunk& ch, const T* col, T* dx) {
  const int64_t oh = s.out_h(), ow = s.out_w(), ld = ch.count * g.ohw;
  const std::vector<ColumnRange> ranges = valid_columns(s);
  parallel_for(
      g.cg * ch.count,
      [&](int64_t r) {
        const int64_t c = r / ch.count, img = r % ch.count;
        T* dst = dx + ((ch.first + img) * s.c + ch.group * g.cg + c) * g.hw;
        std::memset(dst, 0, sizeof(T) * g.hw);
        for (int64_t i = 0; i < s.kh; ++i)
          for (int64_t j = 0; j < s.kw; ++j) {
            const T* src = col + ((c * s.kh + i) * s.kw + j) * ld + img * g.ohw;
            const ColumnRange cols = ranges[size_t(j)];
            for (int64_t oy = 0; oy < oh; ++oy) {
              const int64_t iy = oy * s.stride_h - s.pad_h + i * s.dil_h;
              if (iy < 0 || iy >= s.h) continue;
              T* line = dst + iy * s.w + cols.first_ix;
              const T* from = src + oy * ow;
              for (int64_t ox = cols.begin; ox < cols.end; ++ox)
                line[(ox - cols.begin) * s.stride_w] += from[ox];
            }
          }
      },
      4);
}

// Between an NCHW tensor (channels C, planes of `plane` elements) and the
// matrix [channels, count * plane] of one chunk's group: GEMM operands. Calls
// copy(tensor_offset, matrix_offset) for each of the chunk's planes, in parallel.
template <class F>
void for_each_chunk_plane(int64_t c, int64_t plane, const Chunk& ch, int64_t cg, F&& copy) {
  parallel_for(
      cg * ch.count,
      [&](int64_t r) {
        const int64_t k = r / ch.count, img = r % ch.count;
        copy(((ch.first + img) * c + ch.group * cg + k) * plane, (k * ch.count + img) * plane);
      },
      16);
}
template <class T>
void planes_to_matrix(const T* t, int64_t c, int64_t plane, const Chunk& ch, int64_t cg, T* m) {
  for_each_chunk_plane(c, plane, ch, cg, [&](int64_t at_t, int64_t at_m) {
    std::memcpy(m + at_m, t + at_t, sizeof(T) * plane);
  });
}
template <class T>
void matrix_to_planes(const T* m, int64_t c, int64_t plane, const Chunk& ch, int64_t cg, T* t) {
  for_each_chunk_plane(c, plane, ch, cg, [&](int64_t at_t, int64_t at_m) {
    std::memcpy(t + at_t, m + at_m, sizeof(T) * plane);
  });
}

// Calls f(chunk) for every run of images and every group.
template <class F>
void for_each_chunk(const ConvShape& s, const GroupDims& g, F&& f) {
  const int64_t per = images_per_gemm(s, g);
  for (int64_t first = 0; first < s.n; first += per)
    for (int64_t grp = 0; grp < s.groups; ++grp) f(Chunk{first, std::min(per, s.n - first), grp});
}

// The column matrix of a chunk: a single image's group of a pointwise
// convolution is already one (its planes are contiguous); else im2col into
// `col` (a std::vector<T> or a ScratchBuffer<T>).
template <class T, class Buffer>
const T* columns(const ConvShape& s, const GroupDims& g, const Chunk& ch, const T* x, Buffer& col) {
  if (s.is_pointwise() && ch.count == 1) return x + (ch.first * s.c + ch.group * g.cg) * g.hw;
  col.resize(size_t(g.k * ch.count * g.ohw));
  im2col(s, g, ch, x, col.data());
  return col.data();
}

// The output-side matrix [og, count * OHW] of a chunk: the planes themselves
// for a single image, else a gathered copy in `buf` (as columns' `col`).
template <class T, class Buffer>
const T* output_matrix(const ConvShape& s, const GroupDims& g, const Chunk& ch, const T* dy,
                       Buffer& buf) {
  if (ch.count == 1) return dy + (ch.first * s.o + ch.group * g.og) * g.ohw;
  buf.resize(size_t(g.og * ch.count * g.ohw));
  planes_to_matrix(dy, s.o, g.ohw, ch, g.og, buf.data());
  return buf.data();
}

}  // namespace

template <class T>
void conv2d_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  if constexpr (std::is_same_v<T, float>)
    if (winograd_conv_applies(s)) return winograd_conv_forward(s, x, w, bias, y);
  const GroupDims g = group_dims(s);
  std::vector<T> col, out;
  for_each_chunk(s, g, [&](const Chunk& ch) {
    const T* cols = columns(s, g, ch, x, col);
    const int64_t n = ch.count * g.ohw;
    const T* wg = w + ch.group * g.og * g.k;
    if (ch.count == 1) {
      gemm<T>(false, false, g.og, n, g.k, T(1), wg, g.k, cols, n, T(0),
              y + (ch.first * s.o + ch.group * g.og) * g.ohw, n);
      return;
    }
    out.resize(size_t(g.og * n));
    gemm<T>(false, false, g.og, n, g.k, T(1), wg, g.k, cols, n, T(0), out.data(), n);
    matrix_to_planes(out.data(), s.o, g.ohw, ch, g.og, y);
  });
  if (bias)
    parallel_for(
        s.n * s.o,
        [&](int64_t no) {
          T b = bias[no % s.o];
          T* p = y + no * g.ohw;
          for (int64_t i = 0; i < g.ohw; ++i) p[i] += b;
        },
        64);
}

template <class T>
void conv2d_backward_data(const ConvShape& s, const T* dy, const T* w, T* dx) {
  if constexpr (std::is_same_v<T, float>)
    if (winograd_conv_applies(s)) return winograd_conv_backward_data(s, dy, w, dx);
  const GroupDims g = group_dims(s);
  std::vector<T> dyg_buf, col;
  for_each_chunk(s, g, [&](const Chunk& ch) {
    const T* dyg = output_matrix(s, g, ch, dy, dyg_buf);
    const int64_t n = ch.count * g.ohw;
    const T* wg = w + ch.group * g.og * g.k;
    if (s.is_pointwise() && ch.count == 1) {
      gemm<T>(true, false, g.k, n, g.og, T(1), wg, g.k, dyg, n, T(0),
              dx + (ch.first * s.c + ch.group * g.cg) * g.hw, n);
      return;
    }
    col.resize(size_t(g.k * n));
    gemm<T>(true, false, g.k, n, g.og, T(1), wg, g.k, dyg, n, T(0), col.data(), n);
    if (s.is_pointwise()) {
      matrix_to_planes(col.data(), s.c, g.hw, ch, g.cg, dx);
      return;
    }
    col2im(s, g, ch, col.data(), dx);
  });
}

template <class T>
void conv2d_backward_filter(const ConvShape& s, const T* x, const T* dy, T* dw, T* db) {
  if constexpr (std::is_same_v<T, float>)
    if (winograd_conv_applies(s)) return winograd_conv_backward_filter(s, x, dy, dw, db);
  const GroupDims g = group_dims(s);
  std::memset(dw, 0, sizeof(T) * s.o * g.k);
  std::vector<T> col, dyg_buf;
  for_each_chunk(s, g, [&](const Chunk& ch) {
    const T* cols = columns(s, g, ch, x, col);
    const T* dyg = output_matrix(s, g, ch, dy, dyg_buf);
    const int64_t n = ch.count * g.ohw;
    gemm<T>(false, true, g.og, g.k, n, T(1), dyg, n, cols, n, T(1), dw + ch.group * g.og * g.k,
            g.k);
  });
  if (db)
    parallel_for(
        s.o,
        [&](int64_t o) {
          T acc = 0;
          for (int64_t n = 0; n < s.n; ++n) {
            const T* p = dy + (n * s.o + o) * g.ohw;
            for (int64_t i = 0; i < g.ohw; ++i) acc += p[i];
          }
          db[o] = acc;
        },
        1);
}

// bf16: im2col in bf16 and products of bf16 operands accumulated in f32;
// forward (with its bias) and backward-data results are rounded to bf16 once,
// and the filter gradient is accumulated in f32 over every chunk
// (gemm_bf16_f32), then rounded once. Scratch buffers are kept per thread
// between calls.
namespace {

thread_local ScratchBuffer<bf16> t_bf16_matrix, t_bf16_columns;
thread_local ScratchBuffer<float> t_f32_matrix, t_f32_result;

}  // namespace

// The forward's products are bf16 (gemm<bf16>, rounded once); a bias is C's
// starting value (beta = 1), so it is added before that rounding.
template <>
void conv2d_forward<bf16>(const ConvShape& s, const bf16* x, const bf16* w, const bf16* bias,
                          bf16* y) {
  const GroupDims g = group_dims(s);
  for_each_chunk(s, g, [&](const Chunk& ch) {
    const bf16* cols = columns(s, g, ch, x, t_bf16_columns);
    const int64_t n = ch.count * g.ohw;
    const bf16* wg = w + ch.group * g.og * g.k;
    // A single image's output planes are the product's matrix.
    bf16* out = y + (ch.first * s.o + ch.group * g.og) * g.ohw;
    if (ch.count > 1) {
      t_bf16_matrix.resize(size_t(g.og * n));
      out = t_bf16_matrix.data();
    }
    if (bias)
      parallel_for(
          g.og,
          [&](int64_t r) { std::fill(out + r * n, out + (r + 1) * n, bias[ch.group * g.og + r]); },
          std::max<int64_t>(1, kParallelGrain / n));
    gemm<bf16>(false, false, g.og, n, g.k, 1.f, wg, g.k, cols, n, bias ? 1.f : 0.f, out, n);
    if (ch.count > 1) matrix_to_planes(out, s.o, g.ohw, ch, g.og, y);
  });
}

template <>
void conv2d_backward_data<bf16>(const ConvShape& s, const bf16* dy, const bf16* w, bf16* dx) {
  const GroupDims g = group_dims(s);
  t_f32_result.resize(size_t(s.input_size()));
  float* const dxf = t_f32_result.data();
  for_each_chunk(s, g, [&](const Chunk& ch) {
    const bf16* dyg = output_matrix(s, g, ch, dy, t_bf16_matrix);
    const int64_t n = ch.count * g.ohw;
    const bf16* wg = w + ch.group * g.og * g.k;
    if (s.is_pointwise() && ch.count == 1) {
      gemm_bf16_f32(true, false, g.k, n, g.og, 1.f, wg, g.k, dyg, n, 0.f,
                    dxf + (ch.first * s.c + ch.group * g.cg) * g.hw, n);
      return;
    }
    t_f32_matrix.resize(size_t(g.k * n));
    float* const col = t_f32_matrix.data();
    gemm_bf16_f32(true, false, g.k, n, g.og, 1.f, wg, g.k, dyg, n, 0.f, col, n);
    if (s.is_pointwise())
      matrix_to_planes(col, s.c, g.hw, ch, g.cg, dxf);
    else
      col2im(s, g, ch, col, dxf);
  });
  narrow(dxf, dx, s.input_size());
}

template <>
void conv2d_backward_filter<bf16>(const ConvShape& s, const bf16* x, const bf16* dy, bf16* dw,
                                  bf16* db) {
  const GroupDims g = group_dims(s);
  t_f32_result.resize(size_t(s.weight_size()));
  float* const dwf = t_f32_result.data();
  std::memset(dwf, 0, sizeof(float) * s.weight_size());
  for_each_chunk(s, g, [&](const Chunk& ch) {
    const bf16* cols = columns(s, g, ch, x, t_bf16_columns);
    const bf16* dyg = output_matrix(s, g, ch, dy, t_bf16_matrix);
    const int64_t n = ch.count * g.ohw;
    gemm_bf16_f32(false, true, g.og, g.k, n, 1.f, dyg, n, cols, n, 1.f, dwf + ch.group * g.og * g.k,
                  g.k);
  });
  narrow(dwf, dw, s.weight_size());
  if (db)
    parallel_for(
        s.o,
        [&](int64_t o) {
          float acc = 0;
          for (int64_t n = 0; n < s.n; ++n) {
            const bf16* p = dy + (n * s.o + o) * g.ohw;
            for (int64_t i = 0; i < g.ohw; ++i) acc += to_float(p[i]);
          }
          db[o] = to_bf16(acc);
        },
        1);
}

#define DML_INSTANTIATE(T)                                                             \
  template void conv2d_forward<T>(const ConvShape&, const T*, const T*, const T*, T*); \
  template void conv2d_backward_data<T>(const ConvShape&, const T*, const T*, T*);     \
  template void conv2d_backward_filter<T>(const ConvShape&, const T*, const T*, T*, T*);
DML_INSTANTIATE(float)
DML_INSTANTIATE(double)
#undef DML_INSTANTIATE

}  // namespace dml::cpu
