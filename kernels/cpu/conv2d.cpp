// Convolutions as GEMMs with the column matrix (conv2d.h). Two ways to get
// that matrix to the GEMM:
//
// - im2col: stored whole for a chunk of images (up to 32 MiB), then
//   multiplied; the reference, and the path of f64, bf16 (widened to this
//   f32 code) and the paths below avx512.
// - Implicit columns, f32 on the avx512 path and above: the SGEMM fills its
//   packed B panels, and the k-contiguous path its row copies, straight from
//   the image (conv2d_columns.h), so the matrix only ever exists a panel at
//   a time in L1/L2. Forward and backward filter are one GEMM per chunk as
//   before; backward data of stride 1 is the forward kernel on dY with
//   flipped weights; of stride 2 on maps of 256 outputs or more, bands of a
//   column tile per (image, group) in L2, scattered into dx at once (smaller
//   maps keep im2col's batched path: their bands would be too narrow, and
//   their column matrix fits in cache anyway); a 1x1 stride-1 one stays the
//   direct product W^T dY.
//
// Chosen over per-thread column tiles (each thread im2col-ing its tile and
// running a one-thread GEMM) because the packing hook keeps everything the
// GEMM does well: small feature maps (2x2 to 8x8 in a ResNet-18 at 64 px)
// still batch images into one wide product whose weights are packed once per
// chunk, where per-tile GEMMs would be a few columns wide and re-read the
// weights per tile; and large products keep the GEMM's own thread grid.
// Measured on one Zen 4 core (bench_conv2d): filling the panels takes about a
// fifth of a 16 x 16 map's forward time (its indices stepped, its copies
// masked AVX-512 loads, the next panel's lines prefetched), less on larger
// maps; every ResNet shape it takes beat im2col, by 1.04-1.6x.
#include "kernels/cpu/conv2d.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "base/parallel.h"
#include "kernels/cpu/bf16_widen.h"
#include "kernels/cpu/conv2d_columns.h"
#include "kernels/cpu/conv2d_geometry.h"
#include "kernels/cpu/conv_winograd_nchw.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/gemm_vector.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/sgemm_avx512.h"
#include "kernels/storage_math.h"

namespace dml::cpu {

namespace {

// Images per GEMM. A GEMM per image repacks the weights every time and is
// narrow on small feature maps (2x2 in a ResNet-18's last stage at 64 px),
// so images are batched into one GEMM of count * OH*OW columns, as many as
// keep the column buffer under this many elements (32 MiB in f32).
constexpr int64_t kColumnBudget = int64_t(8) << 20;

// Without a stored column matrix (implicit columns, below) a feature map of
// at least this many output positions makes a wide enough GEMM alone, written
// straight into the output planes; smaller ones are batched into GEMMs of
// about kImplicitColumns columns (fewer GEMM calls and parallel regions),
// whose output is copied to the planes.
constexpr int64_t kOwnGemmColumns = 1024;
constexpr int64_t kImplicitColumns = 4096;
constexpr int64_t kFilterColumns = 8192;

// How a call's chunks are multiplied: images per GEMM, and whether the GEMM
// reads the column matrix from the image (conv2d_columns.h) or from im2col's
// buffer.
struct ChunkPlan {
  int64_t images;
  bool implicit;
};

// Images per chunk with im2col's buffer.
int64_t stored_column_images(const ConvShape& s, const GroupDims& g) {
  return std::clamp<int64_t>(kColumnBudget / std::max<int64_t>(g.k * g.ohw, 1), 1,
                             std::max<int64_t>(s.n, 1));
}

template <class T>
ChunkPlan plan_chunks(const ConvShape& s, const GroupDims& g) {
#if defined(__x86_64__)
  if constexpr (std::is_same_v<T, float>) {
    const int64_t n = std::max<int64_t>(s.n, 1);
    const int64_t images =
        g.ohw >= kOwnGemmColumns
            ? 1
            : std::clamp<int64_t>((kImplicitColumns + g.ohw - 1) / std::max<int64_t>(g.ohw, 1), 1,
                                  n);
    // The SGEMM's path (gemm.cpp's own_gemm): AVX-512, and not a lean product.
    if (active_isa() >= Isa::avx512 && !gemm_lean_shape(g.og, images * g.ohw, g.k))
      return {images, true};
  }
#endif
  return {stored_column_images(s, g), false};
}

// A run of `count` images starting at `first`, within one group.
struct Chunk {
  int64_t first, count, group;
};

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

// Adds the column entries of output rows [oy0, oy1) of one image to channel
// c's plane of dx: each entry to the input element it was taken from (col's
// column (oy - oy0)*OW + ox, rows ld apart).
// add_line(line, from, count, stride) does line[l * stride] += from[l], l < count.
template <class T>
void add_line_scalar(T* line, const T* from, int64_t count, int64_t stride) {
  for (int64_t l = 0; l < count; ++l) line[l * stride] += from[l];
}

template <class T, class AddLine>
void col2im_plane(const ConvShape& s, const std::vector<ColumnRange>& ranges, const T* col,
                  int64_t ld, int64_t c, int64_t oy0, int64_t oy1, T* plane, AddLine add_line) {
  const int64_t ow = s.out_w();
  for (int64_t i = 0; i < s.kh; ++i)
    for (int64_t j = 0; j < s.kw; ++j) {
      const T* src = col + ((c * s.kh + i) * s.kw + j) * ld;
      const ColumnRange cols = ranges[size_t(j)];
      for (int64_t oy = oy0; oy < oy1; ++oy) {
        const int64_t iy = oy * s.stride_h - s.pad_h + i * s.dil_h;
        if (iy < 0 || iy >= s.h) continue;
        add_line(plane + iy * s.w + cols.first_ix, src + (oy - oy0) * ow + cols.begin,
                 cols.end - cols.begin, s.stride_w);
      }
    }
}

// The adjoint of im2col: dx = the sum of col's entries over the positions
// each input element fed. Parallel over (image, channel) planes, which no
// two tasks share; each task zeroes its plane first.
template <class T>
void col2im(const ConvShape& s, const GroupDims& g, const Chunk& ch, const T* col, T* dx) {
  const std::vector<ColumnRange> ranges = valid_columns(s);
  parallel_for(
      g.cg * ch.count,
      [&](int64_t r) {
        const int64_t c = r / ch.count, img = r % ch.count;
        T* dst = dx + ((ch.first + img) * s.c + ch.group * g.cg + c) * g.hw;
        std::memset(dst, 0, sizeof(T) * g.hw);
        col2im_plane(s, ranges, col + img * g.ohw, ch.count * g.ohw, c, 0, s.out_h(), dst,
                     add_line_scalar<T>);
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

// Calls f(chunk) for every run of `per` images and every group.
template <class F>
void for_each_chunk(const ConvShape& s, int64_t per, F&& f) {
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

// C (ldc) = alpha op(A) op(col) + beta C for a chunk's column matrix col
// [k, count * OHW] (op(col) = col^T with trans_col): with implicit columns
// the SGEMM fills its panels from x, else col is stored first.
template <class T>
void multiply_columns(const ConvShape& s, const GroupDims& g, const Chunk& ch, bool implicit,
                      bool trans_col, int64_t m, const T* a, int64_t lda, T beta, const T* x, T* c,
                      int64_t ldc, std::vector<T>& col) {
  const int64_t n = ch.count * g.ohw, rows = trans_col ? g.k : n, depth = trans_col ? n : g.k;
#if defined(__x86_64__)
  if constexpr (std::is_same_v<T, float>) {
    if (implicit && !(s.is_pointwise() && ch.count == 1)) {
      const ImageColumns cols(s, x + (ch.first * s.c + ch.group * g.cg) * g.hw);
      sgemm_avx512(false, trans_col, m, rows, depth, 1.f, a, lda, cols.source(), beta, c, ldc);
      return;
    }
  }
#endif
  (void)implicit;
  gemm<T>(false, trans_col, m, rows, depth, T(1), a, lda, columns(s, g, ch, x, col), n, beta, c,
          ldc);
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

// db[o] = the sum of dY's planes o over every image, accumulated in T's math
// type (f32 for bf16) and stored once.
template <class T>
void bias_gradient(const ConvShape& s, const GroupDims& g, const T* dy, T* db) {
  parallel_for(
      s.o,
      [&](int64_t o) {
        kernels::math_t<T> acc = 0;
        for (int64_t n = 0; n < s.n; ++n) {
          const T* p = dy + (n * s.o + o) * g.ohw;
          for (int64_t i = 0; i < g.ohw; ++i) acc += kernels::load(p[i]);
        }
        db[o] = kernels::store<T>(acc);
      },
      1);
}

// Backward data of a stride-1 convolution is a forward one: dx = dy
// correlated with the weights flipped in space and transposed per group
// (channels <-> outputs), padded by dil*(k-1) - pad, which keeps dx's size
// when that padding is not negative. With implicit columns that reuses the
// forward kernel's column source; the flipped weights cost one pass over w.
// Not for a pointwise one: its column matrix is dx itself, and the direct
// product W^T dY (below) is as fast.
bool backward_data_is_forward(const ConvShape& s) {
  return !s.is_pointwise() && s.stride_h == 1 && s.stride_w == 1 &&
         s.pad_h <= s.dil_h * (s.kh - 1) && s.pad_w <= s.dil_w * (s.kw - 1);
}
ConvShape backward_data_as_forward(const ConvShape& s) {
  return {s.n,
          s.o,
          s.out_h(),
          s.out_w(),
          s.c,
          s.kh,
          s.kw,
          1,
          1,
          s.dil_h * (s.kh - 1) - s.pad_h,
          s.dil_w * (s.kw - 1) - s.pad_w,
          s.dil_h,
          s.dil_w,
          s.groups};
}
// w[group*og + o, c, i, j] -> flipped[group*cg + c, o, kh-1-i, kw-1-j].
template <class T>
std::vector<T> flip_weights(const ConvShape& s, const GroupDims& g, const T* w) {
  std::vector<T> flipped(size_t(s.weight_size()));
  const int64_t taps = s.kh * s.kw;
  parallel_for(
      s.o * g.cg,
      [&](int64_t oc) {
        const int64_t o = oc / g.cg, c = oc % g.cg, grp = o / g.og;
        const T* from = w + oc * taps;
        T* to = flipped.data() + ((grp * g.cg + c) * g.og + o % g.og) * taps;
        for (int64_t t = 0; t < taps; ++t) to[taps - 1 - t] = from[t];
      },
      64);
  return flipped;
}

// Backward data of a strided convolution on the avx512 path, for feature
// maps of at least kBandMinColumns output positions: parallel over (image,
// group), each task multiplies W^T by a band of dY's rows into a column tile
// of its own that stays in L2 (the SGEMM runs one thread inside a parallel
// region) and scatters it into its image's dx right away. So the column
// matrix is never whole in memory, and no two tasks share a dx plane. W^T is
// stored once per call, so that no band packs it again. Smaller maps make
// bands too narrow for the GEMM: they keep im2col's batched path.
constexpr int64_t kBandFloats = 128 * 1024;  // most floats in a tile
constexpr int64_t kBandMinColumns = 256;

bool backward_data_by_bands(const GroupDims& g) {
  return g.ohw >= kBandMinColumns;
}

void backward_data_in_bands(const ConvShape& s, const GroupDims& g, const float* dy, const float* w,
                            float* dx) {
#if defined(__x86_64__)
  const int64_t oh = s.out_h(), ow = s.out_w();
  const int64_t band = std::clamp<int64_t>(kBandFloats / (g.k * ow), 1, oh);
  const std::vector<ColumnRange> ranges = valid_columns(s);
  // wt[grp][r][o] = w[grp*og + o][r]: each group's W^T, row-major.
  std::vector<float> wt(size_t(s.weight_size()));
  parallel_for(
      s.o,
      [&](int64_t o) {
        const int64_t grp = o / g.og;
        for (int64_t r = 0; r < g.k; ++r)
          wt[size_t((grp * g.k + r) * g.og + o % g.og)] = w[o * g.k + r];
      },
      16);
  parallel_for(
      s.n * s.groups,
      [&](int64_t task) {
        thread_local std::vector<float> tile;
        tile.resize(size_t(g.k * band * ow));
        const int64_t img = task / s.groups, grp = task % s.groups;
        const float* dyg = dy + (img * s.o + grp * g.og) * g.ohw;
        const float* wtg = wt.data() + grp * g.k * g.og;
        float* dxg = dx + (img * s.c + grp * g.cg) * g.hw;
        std::memset(dxg, 0, sizeof(float) * size_t(g.cg * g.hw));
        for (int64_t oy0 = 0; oy0 < oh; oy0 += band) {
          const int64_t oy1 = std::min(oh, oy0 + band), cols = (oy1 - oy0) * ow;
          sgemm_avx512(false, false, g.k, cols, g.og, 1.f, wtg, g.og, dyg + oy0 * ow, g.ohw, 0.f,
                       tile.data(), cols);
          for (int64_t c = 0; c < g.cg; ++c)
            col2im_plane(s, ranges, tile.data(), cols, c, oy0, oy1, dxg + c * g.hw, add_to_line);
        }
      },
      1);
#else
  (void)s, (void)g, (void)dy, (void)w, (void)dx;
#endif
}

}  // namespace

template <class T>
void conv2d_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  if constexpr (std::is_same_v<T, float>)
    if (winograd_conv_applies(s)) return winograd_conv_forward(s, x, w, bias, y);
  const GroupDims g = group_dims(s);
  const ChunkPlan plan = plan_chunks<T>(s, g);
  std::vector<T> col, out;
  for_each_chunk(s, plan.images, [&](const Chunk& ch) {
    const int64_t n = ch.count * g.ohw;
    const T* wg = w + ch.group * g.og * g.k;
    if (ch.count == 1) {
      multiply_columns(s, g, ch, plan.implicit, false, g.og, wg, g.k, T(0), x,
                       y + (ch.first * s.o + ch.group * g.og) * g.ohw, n, col);
      return;
    }
    out.resize(size_t(g.og * n));
    multiply_columns(s, g, ch, plan.implicit, false, g.og, wg, g.k, T(0), x, out.data(), n, col);
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
  if (backward_data_is_forward(s)) {
    const ConvShape fs = backward_data_as_forward(s);
    if (plan_chunks<T>(fs, group_dims(fs)).implicit) {
      const std::vector<T> flipped = flip_weights(s, g, w);
      conv2d_forward<T>(fs, dy, flipped.data(), nullptr, dx);
      return;
    }
  } else if constexpr (std::is_same_v<T, float>) {
    if (plan_chunks<T>(s, g).implicit && backward_data_by_bands(g))
      return backward_data_in_bands(s, g, dy, w, dx);
  }
  std::vector<T> dyg_buf, col;
  for_each_chunk(s, stored_column_images(s, g), [&](const Chunk& ch) {
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
  ChunkPlan plan = plan_chunks<T>(s, g);
  // dW accumulates over chunks, so a GEMM per image writes nothing in place:
  // with implicit columns, chunks of about kFilterColumns columns (fewer,
  // longer products), which keeps dY's gathered copy in cache.
  if (plan.implicit)
    plan.images = std::clamp<int64_t>((kFilterColumns + g.ohw - 1) / std::max<int64_t>(g.ohw, 1), 1,
                                      std::max<int64_t>(s.n, 1));
  std::memset(dw, 0, sizeof(T) * s.o * g.k);
  std::vector<T> col, dyg_buf;
  for_each_chunk(s, plan.images, [&](const Chunk& ch) {
    const T* dyg = output_matrix(s, g, ch, dy, dyg_buf);
    multiply_columns(s, g, ch, plan.implicit, true, g.og, dyg, ch.count * g.ohw, T(1), x,
                     dw + ch.group * g.og * g.k, g.k, col);
  });
  if (db) bias_gradient(s, g, dy, db);
}

// bf16: im2col in bf16 and products of bf16 operands accumulated in f32;
// forward (with its bias) and backward-data results are rounded to bf16 once,
// and the filter gradient is accumulated in f32 over every chunk
// (gemm_bf16_f32), then rounded once. Scratch buffers are kept per thread
// between calls.
namespace {

thread_local ScratchBuffer<bf16> t_bf16_matrix, t_bf16_columns;
thread_local ScratchBuffer<float> t_f32_matrix, t_f32_result;

// Output planes from which a pointwise convolution's per-image products are
// wide enough on their own (measured on 2 threads: ResNet-50's 1x1 layers at
// 56x56, 3136 outputs, ran forward and backward filter 1.25-1.5x faster per
// image than batched; smaller planes were not measured, so the bound is
// a guess between 3136 and the 196 of a 14x14 map).
constexpr int64_t kBf16PointwiseInPlacePlane = 256;

// Images per chunk: one for a pointwise convolution on planes of at least
// kBf16PointwiseInPlacePlane, whose operands are then the tensors themselves
// (no column or gathered copy), else as many as the column budget allows.
int64_t bf16_chunk_images(const ConvShape& s, const GroupDims& g) {
  if (s.is_pointwise() && g.ohw >= kBf16PointwiseInPlacePlane) return 1;
  return stored_column_images(s, g);
}

}  // namespace

// The forward's products are bf16 (gemm<bf16>, rounded once); a bias is C's
// starting value (beta = 1), so it is added before that rounding.
template <>
void conv2d_forward<bf16>(const ConvShape& s, const bf16* x, const bf16* w, const bf16* bias,
                          bf16* y) {
  const GroupDims g = group_dims(s);
  for_each_chunk(s, bf16_chunk_images(s, g), [&](const Chunk& ch) {
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
  // A pointwise convolution taken image by image: each image's dx planes are
  // the product W^T dY itself, rounded once by gemm<bf16>.
  if (s.is_pointwise() && bf16_chunk_images(s, g) == 1) {
    for_each_chunk(s, 1, [&](const Chunk& ch) {
      gemm<bf16>(true, false, g.k, g.ohw, g.og, 1.f, w + ch.group * g.og * g.k, g.k,
                 dy + (ch.first * s.o + ch.group * g.og) * g.ohw, g.ohw, 0.f,
                 dx + (ch.first * s.c + ch.group * g.cg) * g.hw, g.hw);
    });
    return;
  }
  t_f32_result.resize(size_t(s.input_size()));
  float* const dxf = t_f32_result.data();
  for_each_chunk(s, bf16_chunk_images(s, g), [&](const Chunk& ch) {
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
  for_each_chunk(s, bf16_chunk_images(s, g), [&](const Chunk& ch) {
    const bf16* cols = columns(s, g, ch, x, t_bf16_columns);
    const bf16* dyg = output_matrix(s, g, ch, dy, t_bf16_matrix);
    const int64_t n = ch.count * g.ohw;
    gemm_bf16_f32(false, true, g.og, g.k, n, 1.f, dyg, n, cols, n, 1.f, dwf + ch.group * g.og * g.k,
                  g.k);
  });
  narrow(dwf, dw, s.weight_size());
  if (db) bias_gradient(s, g, dy, db);
}

#define DML_INSTANTIATE(T)                                                             \
  template void conv2d_forward<T>(const ConvShape&, const T*, const T*, const T*, T*); \
  template void conv2d_backward_data<T>(const ConvShape&, const T*, const T*, T*);     \
  template void conv2d_backward_filter<T>(const ConvShape&, const T*, const T*, T*, T*);
DML_INSTANTIATE(float)
DML_INSTANTIATE(double)
#undef DML_INSTANTIATE

}  // namespace dml::cpu
