#include "kernels/cpu/pool2d.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/cpu/parallel.h"

namespace dml::cpu {

std::vector<PoolWindow> fixed_windows(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                                      int64_t pad) {
  std::vector<PoolWindow> ws(out);
  for (int64_t o = 0; o < out; ++o) {
    int64_t b = o * stride - pad, e = std::min(b + kernel, in + pad);
    ws[o] = {std::max<int64_t>(b, 0), std::min(e, in), e - b};
  }
  return ws;
}

std::vector<PoolWindow> adaptive_windows(int64_t in, int64_t out) {
  std::vector<PoolWindow> ws(out);
  for (int64_t o = 0; o < out; ++o) {
    int64_t b = (o * in) / out, e = ((o + 1) * in + out - 1) / out;
    ws[o] = {b, e, e - b};
  }
  return ws;
}

template <class T>
void max_pool2d_forward(const T* x, int64_t planes, int64_t h, int64_t w,
                        const std::vector<PoolWindow>& wy, const std::vector<PoolWindow>& wx, T* y,
                        int64_t* argmax) {
  const int64_t oh = int64_t(wy.size()), ow = int64_t(wx.size());
  parallel_for(
      planes,
      [&](int64_t p) {
        const T* src = x + p * h * w;
        for (int64_t oy = 0; oy < oh; ++oy)
          for (int64_t ox = 0; ox < ow; ++ox) {
            T best = -std::numeric_limits<T>::infinity();
            int64_t at = wy[oy].begin * w + wx[ox].begin;
            for (int64_t iy = wy[oy].begin; iy < wy[oy].end; ++iy)
              for (int64_t ix = wx[ox].begin; ix < wx[ox].end; ++ix) {
                T v = src[iy * w + ix];
                if (v > best || std::isnan(v)) {
                  best = v;
                  at = iy * w + ix;
                  if (std::isnan(v)) break;
                }
              }
            y[(p * oh + oy) * ow + ox] = best;
            argmax[(p * oh + oy) * ow + ox] = at;
          }
      },
      4);
}

template <class T>
void max_pool2d_backward(const T* dy, const int64_t* argmax, int64_t planes, int64_t h, int64_t w,
                         int64_t out_hw, T* dx) {
  std::memset(dx, 0, sizeof(T) * planes * h * w);
  parallel_for(
      planes,
      [&](int64_t p) {
        for (int64_t i = 0; i < out_hw; ++i)
          dx[p * h * w + argmax[p * out_hw + i]] += dy[p * out_hw + i];
      },
      4);
}

template <class T>
void avg_pool2d_forward(const T* x, int64_t planes, int64_t h, int64_t w,
                        const std::vector<PoolWindow>& wy, const std::vector<PoolWindow>& wx,
                        T* y) {
  const int64_t oh = int64_t(wy.size()), ow = int64_t(wx.size());
  parallel_for(
      planes,
      [&](int64_t p) {
        const T* src = x + p * h * w;
        for (int64_t oy = 0; oy < oh; ++oy)
          for (int64_t ox = 0; ox < ow; ++ox) {
            T acc = 0;
            for (int64_t iy = wy[oy].begin; iy < wy[oy].end; ++iy)
              for (int64_t ix = wx[ox].begin; ix < wx[ox].end; ++ix) acc += src[iy * w + ix];
            y[(p * oh + oy) * ow + ox] = acc / T(wy[oy].divisor * wx[ox].divisor);
          }
      },
      4);
}

template <class T>
void avg_pool2d_backward(const T* dy, int64_t planes, int64_t h, int64_t w,
                         const std::vector<PoolWindow>& wy, const std::vector<PoolWindow>& wx,
                         T* dx) {
  const int64_t oh = int64_t(wy.size()), ow = int64_t(wx.size());
  std::memset(dx, 0, sizeof(T) * planes * h * w);
  parallel_for(
      planes,
      [&](int64_t p) {
        T* dst = dx + p * h * w;
        for (int64_t oy = 0; oy < oh; ++oy)
          for (int64_t ox = 0; ox < ow; ++ox) {
            T g = dy[(p * oh + oy) * ow + ox] / T(wy[oy].divisor * wx[ox].divisor);
            for (int64_t iy = wy[oy].begin; iy < wy[oy].end; ++iy)
              for (int64_t ix = wx[ox].begin; ix < wx[ox].end; ++ix) dst[iy * w + ix] += g;
          }
      },
      4);
}

#define DML_INSTANTIATE(T)                                                                  \
  template void max_pool2d_forward<T>(const T*, int64_t, int64_t, int64_t,                  \
                                      const std::vector<PoolWindow>&,                       \
                                      const std::vector<PoolWindow>&, T*, int64_t*);        \
  template void max_pool2d_backward<T>(const T*, const int64_t*, int64_t, int64_t, int64_t, \
                                       int64_t, T*);                                        \
  template void avg_pool2d_forward<T>(const T*, int64_t, int64_t, int64_t,                  \
                                      const std::vector<PoolWindow>&,                       \
                                      const std::vector<PoolWindow>&, T*);                  \
  template void avg_pool2d_backward<T>(const T*, int64_t, int64_t, int64_t,                 \
                                       const std::vector<PoolWindow>&,                      \
                                       const std::vector<PoolWindow>&, T*);
DML_INSTANTIATE(float)
DML_INSTANTIATE(double)
#undef DML_INSTANTIATE

}  // namespace dml::cpu
