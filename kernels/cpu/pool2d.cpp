#include "kernels/cpu/pool2d.h"

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

// The outputs of an axis whose windows are whole, [lo, hi): a fixed axis's
// windows that padding does not clip, each `kernel` wide from o * stride - pad.
struct WholeWindows {
  int64_t lo = 0, hi = 0;
};
WholeWindows whole_windows(const PoolAxis& a) {
  WholeWindows r;
  if (a.kernel == 0) return r;
  const auto whole = [&](int64_t o) {
    return o * a.stride - a.pad >= 0 && o * a.stride - a.pad + a.kernel <= a.in;
  };
  while (r.lo < a.out && !whole(r.lo)) ++r.lo;
  r.hi = r.lo;
  while (r.hi < a.out && whole(r.hi)) ++r.hi;
  return r;
}

// Outputs [lo, hi) of one output row of a plane (y and argmax: the row),
// their column windows whole: window_max's scan, every output at once (the
// loop over outputs innermost, so it vectorises). window_max ends a window
// row at its first NaN; here `done` skips the rest of that row instead.
// best and done: scratch for the row's outputs.
template <class S>
DML_ISA_BODY void max_pool_whole_columns(const S* __restrict plane, int64_t w, PoolWindow wy,
                                         int64_t lo, int64_t hi, PoolAxis ax, S* __restrict y,
                                         int64_t* __restrict argmax,
                                         kernels::math_t<S>* __restrict best,
                                         uint8_t* __restrict done) {
  using T = kernels::math_t<S>;
  const int64_t stride = ax.stride;
  for (int64_t ox = lo; ox < hi; ++ox) {
    best[ox] = -T(INFINITY);
    argmax[ox] = wy.begin * w + ox * stride - ax.pad;
  }
  for (int64_t iy = wy.begin; iy < wy.end; ++iy) {
    for (int64_t ox = lo; ox < hi; ++ox) done[ox] = 0;
    for (int64_t kx = 0; kx < ax.kernel; ++kx) {
      const int64_t first = iy * w + kx - ax.pad;
      for (int64_t ox = lo; ox < hi; ++ox) {
        const int64_t at = first + ox * stride;
        const T v = kernels::load(plane[at]);
        const bool nan = v != v;
        const bool take = !done[ox] && (v > best[ox] || nan);
        best[ox] = take ? v : best[ox];
        argmax[ox] = take ? at : argmax[ox];
        done[ox] |= uint8_t(nan);
      }
    }
  }
  for (int64_t ox = lo; ox < hi; ++ox) y[ox] = kernels::store<S>(best[ox]);
}

}  // namespace

template <class S>
void max_pool2d_forward(const S* x, const PoolPlanes& planes, const PoolAxis& ay,
                        const PoolAxis& ax, S* y, int64_t* argmax) {
  const std::vector<PoolWindow> wy = windows(ay), wx = windows(ax);
  const int64_t w = ax.in, oh = ay.out, ow = ax.out, step = planes.step();
  // NCHW planes: the outputs with whole column windows on the active path's
  // vector code, the edges one by one; channels-last planes one by one.
  const WholeWindows whole = planes.channels_last ? WholeWindows{} : whole_windows(ax);
  const Isa isa = active_isa();
  parallel_for(
      planes.count,
      [&](int64_t p) {
        const S* src = x + planes.base(p, ay.in * w);
        const int64_t out = planes.base(p, oh * ow);
        std::vector<kernels::math_t<S>> best(size_t(whole.hi));
        std::vector<uint8_t> done(size_t(whole.hi));
        for (int64_t oy = 0; oy < oh; ++oy) {
          const int64_t row = out + oy * ow * step;
          if (whole.hi > whole.lo)
            run_for_isa<max_pool_whole_columns<S>>(isa, src, w, wy[size_t(oy)], whole.lo, whole.hi,
                                                   ax, y + row, argmax + row, best.data(),
                                                   done.data());
          const auto edge = [&](int64_t ox) {
            const int64_t at = row + ox * step;
            y[at] = kernels::window_max(src, w, wy[size_t(oy)], wx[size_t(ox)], &argmax[at], step);
          };
          for (int64_t ox = 0; ox < whole.lo; ++ox) edge(ox);
          for (int64_t ox = whole.hi; ox < ow; ++ox) edge(ox);
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
