#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/pool2d.h"

namespace dml::cuda {

namespace {

using kernels::PoolWindow;

// One thread per output element, in memory order; argmax null for an average.
template <class T, bool kMax>
__global__ void pool_forward_kernel(const T* x, PoolPlanes planes, int64_t total, PoolAxis ay,
                                    PoolAxis ax, T* y, int64_t* argmax) {
  const int64_t out_hw = ay.out * ax.out, in_hw = ay.in * ax.in, step = planes.step();
  DML_GRID_STRIDE_LOOP(e, total) {
    int64_t p, r;
    planes.locate(e, out_hw, &p, &r);
    const PoolWindow wy = kernels::pool_window(ay, r / ax.out),
                     wx = kernels::pool_window(ax, r % ax.out);
    const T* plane = x + planes.base(p, in_hw);
    if constexpr (kMax)
      y[e] = kernels::window_max(plane, ax.in, wy, wx, &argmax[e], step);
    else
      y[e] = kernels::window_mean(plane, ax.in, wy, wx);
  }
}

// One thread per input element, in memory order; argmax null for an average.
template <class T>
__global__ void pool_backward_kernel(const T* dy, const int64_t* argmax, PoolPlanes planes,
                                     int64_t total, PoolAxis ay, PoolAxis ax, T* dx) {
  const int64_t out_hw = ay.out * ax.out, in_hw = ay.in * ax.in;
  DML_GRID_STRIDE_LOOP(e, total) {
    int64_t p, r;
    planes.locate(e, in_hw, &p, &r);
    const int64_t out = planes.base(p, out_hw);
    dx[e] = kernels::gathered_gradient(dy + out, argmax ? argmax + out : nullptr, ay, ax, r / ax.in,
                                       r % ax.in, planes.step());
  }
}

template <class T, bool kMax>
void forward(const T* x, const PoolPlanes& planes, const PoolAxis& ay, const PoolAxis& ax, T* y,
             int64_t* argmax, int device) {
  const int64_t total = planes.count * ay.out * ax.out;
  grid::launch(pool_forward_kernel<T, kMax>, total, device, x, planes, total, ay, ax, y, argmax);
}

template <class T>
void backward(const T* dy, const int64_t* argmax, const PoolPlanes& planes, const PoolAxis& ay,
              const PoolAxis& ax, T* dx, int device) {
  const int64_t total = planes.count * ay.in * ax.in;
  grid::launch(pool_backward_kernel<T>, total, device, dy, argmax, planes, total, ay, ax, dx);
}

}  // namespace

template <class T>
void max_pool2d_forward(const T* x, const PoolPlanes& planes, const PoolAxis& ay,
                        const PoolAxis& ax, T* y, int64_t* argmax, int device) {
  forward<T, true>(x, planes, ay, ax, y, argmax, device);
}
template <class T>
void max_pool2d_backward(const T* dy, const int64_t* argmax, const PoolPlanes& planes,
                         const PoolAxis& ay, const PoolAxis& ax, T* dx, int device) {
  backward<T>(dy, argmax, planes, ay, ax, dx, device);
}
template <class T>
void avg_pool2d_forward(const T* x, int64_t planes, const PoolAxis& ay, const PoolAxis& ax, T* y,
                        int device) {
  forward<T, false>(x, PoolPlanes::nchw(planes), ay, ax, y, nullptr, device);
}
template <class T>
void avg_pool2d_backward(const T* dy, int64_t planes, const PoolAxis& ay, const PoolAxis& ax, T* dx,
                         int device) {
  backward<T>(dy, nullptr, PoolPlanes::nchw(planes), ay, ax, dx, device);
}

#define DML_INSTANTIATE(T)                                                                      \
  template void max_pool2d_forward<T>(const T*, const PoolPlanes&, const PoolAxis&,             \
                                      const PoolAxis&, T*, int64_t*, int);                      \
  template void max_pool2d_backward<T>(const T*, const int64_t*, const PoolPlanes&,             \
                                       const PoolAxis&, const PoolAxis&, T*, int);              \
  template void avg_pool2d_forward<T>(const T*, int64_t, const PoolAxis&, const PoolAxis&, T*,  \
                                      int);                                                     \
  template void avg_pool2d_backward<T>(const T*, int64_t, const PoolAxis&, const PoolAxis&, T*, \
                                       int);
DML_INSTANTIATE(float)
DML_INSTANTIATE(double)
DML_INSTANTIATE(bf16)
#undef DML_INSTANTIATE

}  // namespace dml::cuda
