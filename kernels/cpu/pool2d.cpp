#include "kernels/cpu/pool2d.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "base/parallel.h"
#include "kernels/cpu/isa_dispatch.h"

namespace dml::cpu {

namespace {

std::vector<PoolWindow> windows(const PoolAxis& a) {
  std::vector<PoolWindow> ws(size_t(a.out));
  for (int64_t o = 0; o < a.out; ++o) ws[size_t(o)] = kernels::pool_window(a, o);
  return ws;
}

// The backward scatters one plane's gradient into `hw` accumulators in the
// math type: dx's own plane where it is contiguous and of that type (f32 and
// f64 NCHW; zeroed first), else a buffer rounded into the plane's elements,
// `step` apart, once at the end (finish). So every element's terms are
// summed in the math type in the order the gathered CUDA backward sums them.
template <class S>
class PlaneGrad {
 public:
  using T = kernels::math_t<S>;
  PlaneGrad(S* dx_plane, int64_t hw, int64_t step = 1) : dx_(dx_plane), hw_(hw), step_(step) {
    if (direct())
      std::memset(static_cast<void*>(dx_), 0, sizeof(S) * size_t(hw));
    else
      buffer_.assign(size_t(hw), T(0));
  }
  T* data() {
    if constexpr (std::is_same_v<S, T>)
      if (direct()) return dx_;
    return buffer_.data();
  }
  void finish() {
    if (!direct())
      for (int64_t i = 0; i < hw_; ++i) dx_[i * step_] = kernels::store<S>(buffer_[size_t(i)]);
  }

 private:
  bool direct() const { return std::is_same_v<S, T> && step_ == 1; }
  S* dx_;
  int64_t hw_, step_;
  std::vector<T> buffer_;
};

// One output row of an NCHW plane over a fixed column axis (y and argmax:
// the row): window_max's scan, every output of the row at once, the loop
// over outputs innermost so that it vectorises (kStride: ax.stride known at
// compile time, 0 for any). Each window row is first widened into `padded`
// with -inf where windows reach past the plane: never taken, as v > best
// never holds for it, so every window is `kernel` wide. window_max ends a
// window row at its first NaN; here `done` skips the rest of that row.
// The loop keeps every per-output value in the math type, so its vectors
// are all one width (a byte or 64-bit array would make them 4 or 2 times
// wider than the stem's 16-output rows, or split them): the best value, its
// place relative to the window's top-left corner (row * w + column, exact as
// a float below 2^24; -1: none yet, the window's first position by
// window_max's rule) and whether this window row met a NaN. best, where and
// done: scratch, one per output.
template <class S, int64_t kStride>
DML_ISA_BODY void max_pool_row(const S* __restrict plane, int64_t w, PoolWindow wy, PoolAxis ax,
                               S* __restrict y, int64_t* __restrict argmax,
                               kernels::math_t<S>* __restrict padded,
                               kernels::math_t<S>* __restrict best,
                               kernels::math_t<S>* __restrict where,
                               kernels::math_t<S>* __restrict done) {
  using T = kernels::math_t<S>;
  const int64_t stride = kStride ? kStride : ax.stride, ow = ax.out, k = ax.kernel;
  const int64_t span = (ow - 1) * stride + k, inside = std::min(span, ax.pad + w);
  for (int64_t ox = 0; ox < ow; ++ox) {
    best[ox] = -T(INFINITY);
    where[ox] = T(-1);
  }
  for (int64_t iy = wy.begin; iy < wy.end; ++iy) {
    const S* row = plane + iy * w - ax.pad;
    for (int64_t q = 0; q < ax.pad; ++q) padded[q] = -T(INFINITY);
    for (int64_t q = ax.pad; q < inside; ++q) padded[q] = kernels::load(row[q]);
    for (int64_t q = inside; q < span; ++q) padded[q] = -T(INFINITY);
    for (int64_t ox = 0; ox < ow; ++ox) done[ox] = T(0);
    for (int64_t kx = 0; kx < k; ++kx) {
      const T place = T((iy - wy.begin) * w + kx);
      // `simd`: vectorised for rows as short as one vector (the stem's 16).
#pragma omp simd
      for (int64_t ox = 0; ox < ow; ++ox) {
        const T v = padded[ox * stride + kx];
        const bool nan = v != v;
        const bool take = done[ox] == T(0) && (v > best[ox] || nan);
        best[ox] = take ? v : best[ox];
        where[ox] = take ? place : where[ox];
        done[ox] = nan ? T(1) : done[ox];
      }
    }
  }
  for (int64_t ox = 0; ox < ow; ++ox) {
    y[ox] = kernels::store<S>(best[ox]);
    const int64_t left = ox * stride - ax.pad;
    argmax[ox] =
        wy.begin * w + (where[ox] < T(0) ? std::max<int64_t>(0, left) : left + int64_t(where[ox]));
  }
}

}  // namespace

template <class S>
void max_pool2d_forward(const S* x, const PoolPlanes& planes, const PoolAxis& ay,
                        const PoolAxis& ax, S* y, int64_t* argmax) {
  const std::vector<PoolWindow> wy = windows(ay), wx = windows(ax);
  const int64_t w = ax.in, oh = ay.out, ow = ax.out, step = planes.step();
  const Isa isa = active_isa();
  // NCHW planes over a fixed column axis: a row of outputs at a time on the
  // active path's vector code (the ResNet stem's 3x3/2 window: stride 2 at
  // compile time). Channels-last planes and adaptive windows: one by one.
  const bool by_rows = !planes.channels_last && ax.kernel > 0;
  const auto run_row = [&](auto... args) {
    if (ax.stride == 1) return run_for_isa<max_pool_row<S, 1>>(isa, args...);
    if (ax.stride == 2) return run_for_isa<max_pool_row<S, 2>>(isa, args...);
    run_for_isa<max_pool_row<S, 0>>(isa, args...);
  };
  parallel_for(
      planes.count,
      [&](int64_t p) {
        const S* src = x + planes.base(p, ay.in * w);
        const int64_t out = planes.base(p, oh * ow);
        if (by_rows) {
          using T = kernels::math_t<S>;
          const size_t outputs = size_t(ow);
          std::vector<T> padded(size_t((ow - 1) * ax.stride + ax.kernel)), best(outputs),
              where(outputs), done(outputs);
          for (int64_t oy = 0; oy < oh; ++oy) {
            const int64_t row = out + oy * ow;
            run_row(src, w, wy[size_t(oy)], ax, y + row, argmax + row, padded.data(), best.data(),
                    where.data(), done.data());
          }
          return;
        }
        for (int64_t oy = 0; oy < oh; ++oy)
          for (int64_t ox = 0; ox < ow; ++ox) {
            const int64_t at = out + (oy * ow + ox) * step;
            y[at] = kernels::window_max(src, w, wy[size_t(oy)], wx[size_t(ox)], &argmax[at], step);
          }
      },
      4);
}

template <class S>
void max_pool2d_backward(const S* dy, const int64_t* argmax, const PoolPlanes& planes,
                         const PoolAxis& ay, const PoolAxis& ax, S* dx) {
  const int64_t hw = ay.in * ax.in, out_hw = ay.out * ax.out, step = planes.step();
  parallel_for(
      planes.count,
      [&](int64_t p) {
        PlaneGrad<S> acc(dx + planes.base(p, hw), hw, step);
        auto* d = acc.data();
        const int64_t out = planes.base(p, out_hw);
        for (int64_t i = 0; i < out_hw; ++i) {
          const int64_t at = out + i * step;
          d[argmax[at]] += kernels::load(dy[at]);
        }
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
  template void max_pool2d_forward<T>(const T*, const PoolPlanes&, const PoolAxis&,             \
                                      const PoolAxis&, T*, int64_t*);                           \
  template void max_pool2d_backward<T>(const T*, const int64_t*, const PoolPlanes&,             \
                                       const PoolAxis&, const PoolAxis&, T*);                   \
  template void avg_pool2d_forward<T>(const T*, int64_t, const PoolAxis&, const PoolAxis&, T*); \
  template void avg_pool2d_backward<T>(const T*, int64_t, const PoolAxis&, const PoolAxis&, T*);
DML_INSTANTIATE(float)
DML_INSTANTIATE(double)
DML_INSTANTIATE(bf16)
#undef DML_INSTANTIATE

}  // namespace dml::cpu
