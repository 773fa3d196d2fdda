#include "kernels/cpu/pool2d.h"

#include <cstring>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace dml::cpu {

namespace {

std::vector<PoolWindow> windows(const PoolAxis& a) {
  std::vector<PoolWindow> ws(size_t(a.out));
  for (int64_t o = 0; o < a.out; ++o) ws[size_t(o)] = kernels::pool_window(a, o);
  return ws;
}

}  // namespace

template <class T>
void max_pool2d_forward(const T* x, int64_t planes, const PoolAxis& ay, const PoolAxis& ax, T* y,
                        int64_t* argmax) {
  const std::vector<PoolWindow> wy = windows(ay), wx = windows(ax);
  const int64_t h = ay.in, w = ax.in, oh = ay.out, ow = ax.out;
  parallel_for(
      planes,
      [&](int64_t p) {
        const T* src = x + p * h * w;
        for (int64_t oy = 0; oy < oh; ++oy)
          for (int64_t ox = 0; ox < ow; ++ox) {
            const int64_t at = (p * oh + oy) * ow + ox;
            y[at] = kernels::window_max(src, w, wy[size_t(oy)], wx[size_t(ox)], &argmax[at]);
          }
      },
      4);
}

template <class T>
void max_pool2d_backward(const T* dy, const int64_t* argmax, int64_t planes, const PoolAxis& ay,
                         const PoolAxis& ax, T* dx) {
  const int64_t hw = ay.in * ax.in, out_hw = ay.out * ax.out;
  std::memset(dx, 0, sizeof(T) * planes * hw);
  parallel_for(
      planes,
      [&](int64_t p) {
        for (int64_t i = 0; i < out_hw; ++i)
          dx[p * hw + argmax[p * out_hw + i]] += dy[p * out_hw + i];
      },
      4);
}

template <class T>
void avg_pool2d_forward(const T* x, int64_t planes, const PoolAxis& ay, const PoolAxis& ax, T* y) {
  const std::vector<PoolWindow> wy = windows(ay), wx = windows(ax);
  const int64_t h = ay.in, w = ax.in, oh = ay.out, ow = ax.out;
  parallel_for(
      planes,
      [&](int64_t p) {
        const T* src = x + p * h * w;
        for (int64_t oy = 0; oy < oh; ++oy)
          for (int64_t ox = 0; ox < ow; ++ox)
            y[(p * oh + oy) * ow + ox] =
                kernels::window_mean(src, w, wy[size_t(oy)], wx[size_t(ox)]);
      },
      4);
}

template <class T>
void avg_pool2d_backward(const T* dy, int64_t planes, const PoolAxis& ay, const PoolAxis& ax,
                         T* dx) {
  const std::vector<PoolWindow> wy = windows(ay), wx = windows(ax);
  const int64_t h = ay.in, w = ax.in, oh = ay.out, ow = ax.out;
  std::memset(dx, 0, sizeof(T) * planes * h * w);
  parallel_for(
      planes,
      [&](int64_t p) {
        T* dst = dx + p * h * w;
        for (int64_t oy = 0; oy < oh; ++oy)
          for (int64_t ox = 0; ox < ow; ++ox) {
            const PoolWindow& y_win = wy[size_t(oy)];
            const PoolWindow& x_win = wx[size_t(ox)];
            T g = dy[(p * oh + oy) * ow + ox] / T(y_win.divisor * x_win.divisor);
            for (int64_t iy = y_win.begin; iy < y_win.end; ++iy)
              for (int64_t ix = x_win.begin; ix < x_win.end; ++ix) dst[iy * w + ix] += g;
          }
      },
      4);
}

#define DML_INSTANTIATE(T)                                                                      \
  template void max_pool2d_forward<T>(const T*, int64_t, const PoolAxis&, const PoolAxis&, T*,  \
                                      int64_t*);                                                \
  template void max_pool2d_backward<T>(const T*, const int64_t*, int64_t, const PoolAxis&,      \
                                       const PoolAxis&, T*);                                    \
  template void avg_pool2d_forward<T>(const T*, int64_t, const PoolAxis&, const PoolAxis&, T*); \
  template void avg_pool2d_backward<T>(const T*, int64_t, const PoolAxis&, const PoolAxis&, T*);
DML_INSTANTIATE(float)
DML_INSTANTIATE(double)
#undef DML_INSTANTIATE

}  // namespace dml::cpu
