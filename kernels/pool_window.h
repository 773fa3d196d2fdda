#pragma once
// Pooling windows and the per-window arithmetic, shared by the CPU and CUDA
// pooling kernels so both compute an output element with the same code and
// in the same order. Every pooling variant (fixed kernel with stride and
// padding, adaptive) is one PoolAxis per spatial axis: output o reads input
// positions [begin, end) of that axis, and an average divides by the product
// of the two axes' `divisor` lengths (which counts padding where PyTorch's
// count_include_pad does). C++17, no std:: calls: nvcc compiles it for the
// device too.
//
// Templated on the storage type S of the activations and gradients
// (kernels/storage_math.h): bf16 elements are widened to f32, compared or
// summed in f32 and the result rounded to bf16 once (exact for a maximum,
// which is one of the inputs); f32 and f64 compute in their own type.
#include <cmath>
#include <cstdint>

#include "base/host_device.h"
#include "kernels/storage_math.h"

namespace dml::kernels {

struct PoolWindow {
  int64_t begin, end, divisor;
};

// One axis: `in` input positions, `out` outputs. kernel == 0 marks an
// adaptive axis ([floor(o * in / out), ceil((o + 1) * in / out))); otherwise
// the window starts at o * stride - pad, is clipped to the input, and its
// divisor counts padding but not positions past in + pad (PyTorch).
struct PoolAxis {
  int64_t in, out, kernel, stride, pad;
};

inline PoolAxis fixed_axis(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t pad) {
  return {in, out, kernel, stride, pad};
}
inline PoolAxis adaptive_axis(int64_t in, int64_t out) {
  return {in, out, 0, 1, 0};
}

DML_HOST_DEVICE inline PoolWindow pool_window(const PoolAxis& a, int64_t o) {
  if (a.kernel == 0) {
    const int64_t b = (o * a.in) / a.out, e = ((o + 1) * a.in + a.out - 1) / a.out;
    return {b, e, e - b};
  }
  const int64_t b = o * a.stride - a.pad;
  const int64_t e = b + a.kernel < a.in + a.pad ? b + a.kernel : a.in + a.pad;
  return {b > 0 ? b : 0, e < a.in ? e : a.in, e - b};
}

// The outputs whose window may hold input position i: a superset [first,
// last] (possibly empty), each to be checked against pool_window. A gather
// over it (the CUDA backward) visits outputs in increasing order, the order
// in which the CPU backward's scatter adds them.
struct OutputRange {
  int64_t first, last;
};
DML_HOST_DEVICE inline OutputRange outputs_near(const PoolAxis& a, int64_t i) {
  int64_t first, last;
  if (a.kernel == 0) {
    // floor(o * in / out) <= i < ceil((o + 1) * in / out) holds exactly for
    // o in [floor(i * out / in), ceil((i + 1) * out / in) - 1]; one more on
    // each side costs little and survives an off-by-one in that algebra.
    first = (i * a.out) / a.in - 1;
    last = ((i + 1) * a.out + a.in - 1) / a.in;
  } else {
    // o * stride - pad <= i < o * stride - pad + kernel.
    const int64_t lo = i + a.pad - a.kernel + 1;
    first = lo <= 0 ? 0 : (lo + a.stride - 1) / a.stride;
    last = (i + a.pad) / a.stride;
  }
  return {first > 0 ? first : 0, last < a.out - 1 ? last : a.out - 1};
}

// The planes a pooling kernel walks, count = N * C of them, hw elements
// each. NCHW keeps each plane contiguous; channels-last (NHWC) interleaves an
// image's C planes: element (n, y, x, c) lies at ((n * H + y) * W + x) * C + c,
// so plane p = n * C + c starts at n * H * W * C + c and its elements are C
// apart. argmax holds positions within a plane (y * W + x) either way.
// Max pooling only: window_mean reads contiguous (NCHW) planes.
struct PoolPlanes {
  int64_t count, channels;
  bool channels_last;

  static PoolPlanes nchw(int64_t count) { return {count, 1, false}; }
  // The element step within a plane, and the first element of plane p.
  DML_HOST_DEVICE int64_t step() const { return channels_last ? channels : 1; }
  DML_HOST_DEVICE int64_t base(int64_t p, int64_t hw) const {
    return channels_last ? (p / channels) * hw * channels + p % channels : p * hw;
  }
  // The plane p and position r of memory element e: base(p, hw) + r * step() == e.
  DML_HOST_DEVICE void locate(int64_t e, int64_t hw, int64_t* p, int64_t* r) const {
    if (!channels_last) {
      *p = e / hw;
      *r = e % hw;
      return;
    }
    const int64_t pixel = e / channels;
    *p = (pixel / hw) * channels + e % channels;
    *r = pixel % hw;
  }
};

DML_HOST_DEVICE inline bool window_holds(const PoolWindow& w, int64_t i) {
  return w.begin <= i && i < w.end;
}

// The maximum of one window of a plane `w` wide whose elements lie `step`
// apart (PoolPlanes::step), and its position in the plane. NaN wins (PyTorch
// propagates it): the first NaN of a row ends that row's scan, a later row's
// NaN replaces it. An empty window gives -inf at its first position (the op
// rejects windows entirely in padding).
template <class S>
DML_HOST_DEVICE inline S window_max(const S* plane, int64_t w, const PoolWindow& wy,
                                    const PoolWindow& wx, int64_t* at, int64_t step = 1) {
  using T = math_t<S>;
  T best = -T(INFINITY);  // <limits> is host-only
  int64_t best_at = wy.begin * w + wx.begin;
  for (int64_t iy = wy.begin; iy < wy.end; ++iy)
    for (int64_t ix = wx.begin; ix < wx.end; ++ix) {
      const T v = load(plane[(iy * w + ix) * step]);
      const bool nan = v != v;
      if (v > best || nan) {
        best = v;
        best_at = iy * w + ix;
        if (nan) break;
      }
    }
  *at = best_at;
  return store<S>(best);
}

// The mean of one window: the sum in row order over the divisor.
template <class S>
DML_HOST_DEVICE inline S window_mean(const S* plane, int64_t w, const PoolWindow& wy,
                                     const PoolWindow& wx) {
  using T = math_t<S>;
  T acc = 0;
  for (int64_t iy = wy.begin; iy < wy.end; ++iy)
    for (int64_t ix = wx.begin; ix < wx.end; ++ix) acc += load(plane[iy * w + ix]);
  return store<S>(acc / T(wy.divisor * wx.divisor));
}

// The gradient of input element r = iy * w + ix of one plane, gathered: the
// sum over the outputs whose window holds it, in increasing (oy, ox) order,
// of their gradient g - for max pooling (argmax non-null) only where the
// output's argmax is r, for an average over the output's divisor. g and
// argmax are the output plane, its elements `step` apart. The CUDA
// backward's per-element body; the CPU's scatter adds the same terms in the
// same order.
template <class S>
DML_HOST_DEVICE inline S gathered_gradient(const S* g, const int64_t* argmax, const PoolAxis& ay,
                                           const PoolAxis& ax, int64_t iy, int64_t ix,
                                           int64_t step = 1) {
  using T = math_t<S>;
  const OutputRange ry = outputs_near(ay, iy), rx = outputs_near(ax, ix);
  const int64_t r = iy * ax.in + ix;
  T acc = 0;
  for (int64_t oy = ry.first; oy <= ry.last; ++oy) {
    const PoolWindow wy = pool_window(ay, oy);
    if (!window_holds(wy, iy)) continue;
    for (int64_t ox = rx.first; ox <= rx.last; ++ox) {
      const PoolWindow wx = pool_window(ax, ox);
      if (!window_holds(wx, ix)) continue;
      const int64_t o = (oy * ax.out + ox) * step;
      if (argmax) {
        if (argmax[o] == r) acc += load(g[o]);
      } else {
        acc += load(g[o]) / T(wy.divisor * wx.divisor);
      }
    }
  }
  return store<S>(acc);
}

}  // namespace dml::kernels
