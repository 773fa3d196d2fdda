#include "kernels/cpu/conv2d.h"

#include <cstring>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/parallel.h"

namespace dml::cpu {

namespace {

// col[(c * kh + i) * kw + j, oy * ow + ox] = x[c, oy*sh - ph + i*dh, ox*sw - pw + j*dw] or 0.
template <class T>
void im2col(const ConvShape& s, const T* x, int64_t channels, T* col) {
  const int64_t oh = s.out_h(), ow = s.out_w();
  parallel_for(
      channels * s.kh * s.kw,
      [&](int64_t row) {
        int64_t j = row % s.kw, i = (row / s.kw) % s.kh, c = row / (s.kw * s.kh);
        T* dst = col + row * oh * ow;
        const T* src = x + c * s.h * s.w;
        for (int64_t oy = 0; oy < oh; ++oy) {
          int64_t iy = oy * s.stride_h - s.pad_h + i * s.dil_h;
          T* d = dst + oy * ow;
          if (iy < 0 || iy >= s.h) {
            std::memset(d, 0, sizeof(T) * ow);
            continue;
          }
          const T* r = src + iy * s.w;
          for (int64_t ox = 0; ox < ow; ++ox) {
            int64_t ix = ox * s.stride_w - s.pad_w + j * s.dil_w;
            d[ox] = (ix >= 0 && ix < s.w) ? r[ix] : T(0);
          }
        }
      },
      64);
}

// The adjoint of im2col: x[c, ...] += col[...]. Parallel over channels, whose
// rows never write the same x element.
template <class T>
void col2im(const ConvShape& s, const T* col, int64_t channels, T* x) {
  const int64_t oh = s.out_h(), ow = s.out_w();
  parallel_for(
      channels,
      [&](int64_t c) {
        T* dst = x + c * s.h * s.w;
        for (int64_t i = 0; i < s.kh; ++i)
          for (int64_t j = 0; j < s.kw; ++j) {
            const T* src = col + ((c * s.kh + i) * s.kw + j) * oh * ow;
            for (int64_t oy = 0; oy < oh; ++oy) {
              int64_t iy = oy * s.stride_h - s.pad_h + i * s.dil_h;
              if (iy < 0 || iy >= s.h) continue;
              for (int64_t ox = 0; ox < ow; ++ox) {
                int64_t ix = ox * s.stride_w - s.pad_w + j * s.dil_w;
                if (ix >= 0 && ix < s.w) dst[iy * s.w + ix] += src[oy * ow + ox];
              }
            }
          }
      },
      1);
}

struct GroupDims {
  int64_t cg, og, k, hw, ohw;  // channels, outputs, column rows, input/output plane size
};
GroupDims group_dims(const ConvShape& s) {
  int64_t cg = s.c / s.groups;
  return {cg, s.o / s.groups, cg * s.kh * s.kw, s.h * s.w, s.out_h() * s.out_w()};
}

// The column matrix of one image and group: the input itself for a
// pointwise convolution, else im2col into `col`.
template <class T>
const T* columns(const ConvShape& s, const GroupDims& g, const T* xg, std::vector<T>& col) {
  if (s.is_pointwise()) return xg;
  im2col(s, xg, g.cg, col.data());
  return col.data();
}

}  // namespace

template <class T>
void conv2d_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  const GroupDims g = group_dims(s);
  std::vector<T> col(s.is_pointwise() ? 0 : size_t(g.k * g.ohw));
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t grp = 0; grp < s.groups; ++grp) {
      const T* cols = columns(s, g, x + (n * s.c + grp * g.cg) * g.hw, col);
      T* yg = y + (n * s.o + grp * g.og) * g.ohw;
      gemm<T>(false, false, g.og, g.ohw, g.k, T(1), w + grp * g.og * g.k, g.k, cols, g.ohw, T(0),
              yg, g.ohw);
    }
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
  const GroupDims g = group_dims(s);
  std::vector<T> col(s.is_pointwise() ? 0 : size_t(g.k * g.ohw));
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t grp = 0; grp < s.groups; ++grp) {
      const T* dyg = dy + (n * s.o + grp * g.og) * g.ohw;
      T* dxg = dx + (n * s.c + grp * g.cg) * g.hw;
      const T* wg = w + grp * g.og * g.k;
      if (s.is_pointwise()) {
        gemm<T>(true, false, g.k, g.ohw, g.og, T(1), wg, g.k, dyg, g.ohw, T(0), dxg, g.ohw);
        continue;
      }
      gemm<T>(true, false, g.k, g.ohw, g.og, T(1), wg, g.k, dyg, g.ohw, T(0), col.data(), g.ohw);
      std::memset(dxg, 0, sizeof(T) * g.cg * g.hw);
      col2im(s, col.data(), g.cg, dxg);
    }
}

template <class T>
void conv2d_backward_filter(const ConvShape& s, const T* x, const T* dy, T* dw, T* db) {
  const GroupDims g = group_dims(s);
  std::memset(dw, 0, sizeof(T) * s.o * g.k);
  std::vector<T> col(s.is_pointwise() ? 0 : size_t(g.k * g.ohw));
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t grp = 0; grp < s.groups; ++grp) {
      const T* cols = columns(s, g, x + (n * s.c + grp * g.cg) * g.hw, col);
      const T* dyg = dy + (n * s.o + grp * g.og) * g.ohw;
      gemm<T>(false, true, g.og, g.k, g.ohw, T(1), dyg, g.ohw, cols, g.ohw, T(1),
              dw + grp * g.og * g.k, g.k);
    }
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

#define DML_INSTANTIATE(T)                                                             \
  template void conv2d_forward<T>(const ConvShape&, const T*, const T*, const T*, T*); \
  template void conv2d_backward_data<T>(const ConvShape&, const T*, const T*, T*);     \
  template void conv2d_backward_filter<T>(const ConvShape&, const T*, const T*, T*, T*);
DML_INSTANTIATE(float)
DML_INSTANTIATE(double)
#undef DML_INSTANTIATE

}  // namespace dml::cpu
