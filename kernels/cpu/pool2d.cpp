#include "kernels/cpu/pool2d.h"

#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace dml::cpu {

namespace {

std::vector<PoolWindow> windows(const PoolAxis& a) {
  std::vector<PoolWindow> ws(size_t(a.out));
  for (int64_t o = 0; o < a.out; ++o) ws[size_t(o)] = kernels::pool_window(a, o);
  return ws;
}

// The backward scatters one plane's gradient into `hw` accumulators in the
// math type: dx's own plane for f32 and f64 (zeroed first), an f32 buffer
// for bf16, rounded into dx once at the end (finish), so every element's
// terms are summed in f32 in the order the gathered CUDA backward sums them.
template <class S>
class PlaneGrad {
 public:
  using T = kernels::math_t<S>;
  PlaneGrad(S* dx_plane, int64_t hw) : dx_(dx_plane), hw_(hw) {
    if constexpr (kDirect) {
      std::memset(dx_, 0, sizeof(S) * size_t(hw));
    } else {
      buffer_.assign(size_t(hw), T(0));
    }
  }
  T* data() {
    if constexpr (kDirect)
      return dx_;
    else
      return buffer_.data();
  }
  void finish() {
    if constexpr (!kDirect)
      for (int64_t i = 0; i < hw_; ++i) dx_[i] = kernels::store<S>(buffer_[size_t(i)]);
  }

 private:
  static constexpr bool kDirect = std::is_same_v<S, T>;
  S* dx_;
  int64_t hw_;
  std::vector<T> buffer_;
};

}  // namespace

template <class S>
void max_pool2d_forward(const S* x, int64_t planes, const PoolAxis& ay, const PoolAxis& ax, S* y,
                        int64_t* argmax) {
  const std::vector<PoolWindow> wy = windows(ay), wx = windows(ax);
  const int64_t h = ay.in, w = ax.in, oh = ay.out, ow = ax.out;
  parallel_for(
      planes,
      [&](int64_t p) {
        const S* src = x + p * h * w;
        for (int64_t oy = 0; oy < oh; ++oy)
          for (int64_t ox = 0; ox < ow; ++ox) {
            const int64_t at = (p * oh + oy) * ow + ox;
            y[at] = kernels::window_max(src, w, wy[size_t(oy)], wx[size_t(ox)], &argmax[at]);
          }
      },
      4);
}

template <class S>
void max_pool2d_backward(const S* dy, const int64_t* argmax, int64_t planes, const PoolAxis& ay,
                         const PoolAxis& ax, S* dx) {
  const int64_t hw = ay.in * ax.in, out_hw = ay.out * ax.out;
  parallel_for(
      planes,
      [&](int64_t p) {
        PlaneGrad<S> acc(dx + p * hw, hw);
        auto* d = acc.data();
        for (int64_t i = 0; i < out_hw; ++i)
          d[argmax[p * out_hw + i]] += kernels::load(dy[p * out_hw + i]);
        acc.finish();
      },
      4);
}

template <class S>
void avg_pool2d_forward(const S* x, int64_t planes, const PoolAxis& ay, const PoolAxis& ax, S* y) {
  const std::vector<PoolWindow> wy = windows(ay), wx = windows(ax);
  const int64_t h = ay.in, w = ax.in, oh = ay.out, ow = ax.out;
  parallel_for(
      planes,
      [&](int64_t p) {
        const S* src = x + p * h * w;
        for (int64_t oy = 0; oy < oh; ++oy)
          for (int64_t ox = 0; ox < ow; ++ox)
            y[(p * oh + oy) * ow + ox] =
                kernels::window_mean(src, w, wy[size_t(oy)], wx[size_t(ox)]);
      },
      4);
}

template <class S>
void avg_pool2d_backward(const S* dy, int64_t planes, const PoolAxis& ay, const PoolAxis& ax,
                         S* dx) {
  using T = kernels::math_t<S>;
  const std::vector<PoolWindow> wy = windows(ay), wx = windows(ax);
  const int64_t h = ay.in, w = ax.in, oh = ay.out, ow = ax.out;
  parallel_for(
      planes,
      [&](int64_t p) {
        PlaneGrad<S> acc(dx + p * h * w, h * w);
        T* dst = acc.data();
        for (int64_t oy = 0; oy < oh; ++oy)
          for (int64_t ox = 0; ox < ow; ++ox) {
            const PoolWindow& y_win = wy[size_t(oy)];
            const PoolWindow& x_win = wx[size_t(ox)];
            T g = kernels::load(dy[(p * oh + oy) * ow + ox]) / T(y_win.divisor * x_win.divisor);
            for (int64_t iy = y_win.begin; iy < y_win.end; ++iy)
              for (int64_t ix = x_win.begin; ix < x_win.end; ++ix) dst[iy * w + ix] += g;
          }
        acc.finish();
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
DML_INSTANTIATE(bf16)
#undef DML_INSTANTIATE

}  // namespace dml::cpu
