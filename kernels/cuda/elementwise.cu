#include "kernels/cuda/elementwise.h"

#include "kernels/cuda/grid.cuh"

namespace dml::cuda {

namespace {

using grid::first_index;
using grid::grid_stride;
using grid::launch;
using grid::numel;
using grid::Walk;
static_assert(kMaxDims == grid::kMaxWalkDims, "elementwise.h documents the walk's dim limit");

template <class T, class F>
__global__ void map1_kernel(const T* x, T* y, int64_t n, F f) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) y[i] = f(x[i]);
}

template <class T, class R, class F>
__global__ void map2_kernel(const T* a, const T* b, R* out, int64_t n, Walk<2> w, F f) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    int64_t o[2];
    w.offsets(i, o);
    out[i] = f(a[o[0]], b[o[1]]);
  }
}

template <class T>
__global__ void where_kernel(const uint8_t* cond, const T* a, const T* b, T* out, int64_t n,
                             Walk<3> w) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    int64_t o[3];
    w.offsets(i, o);
    out[i] = cond[o[0]] ? a[o[1]] : b[o[2]];
  }
}

template <class T>
__global__ void relu_backward_kernel(const T* g, const T* x, T* dx, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) dx[i] = kernels::relu_grad(g[i], x[i]);
}

template <class From, class To>
__global__ void cast_kernel(const From* x, To* y, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride())
    y[i] = kernels::narrow<To>(kernels::widen(x[i]));
}

template <class T, class R, class F>
void map2(const T* a, const T* b, R* out, const StridedLayout<2>& L, F f, int device) {
  int64_t n = numel(L.shape);
  if (n == 0) return;
  launch(map2_kernel<T, R, F>, n, device, a, b, out, n,
         grid::make_walk(L, "CUDA elementwise kernel"), f);
}

}  // namespace

template <class T>
void unary(UnaryOp op, const T* x, T* y, int64_t n, double p0, double p1, int device) {
  kernels::visit(op, T(p0), T(p1),
                 [&](auto f) { launch(map1_kernel<T, decltype(f)>, n, device, x, y, n, f); });
}

template <class T>
void binary(BinaryOp op, const T* a, const T* b, T* out, const StridedLayout<2>& L, int device) {
  kernels::visit<T>(op, [&](auto f) { map2(a, b, out, L, f, device); });
}

template <class T>
void compare(CompareOp op, const T* a, const T* b, uint8_t* out, const StridedLayout<2>& L,
             int device) {
  kernels::visit<T>(op, [&](auto f) { map2(a, b, out, L, f, device); });
}

template <class T>
void where(const uint8_t* cond, const T* a, const T* b, T* out, const StridedLayout<3>& L,
           int device) {
  int64_t n = numel(L.shape);
  if (n == 0) return;
  launch(where_kernel<T>, n, device, cond, a, b, out, n,
         grid::make_walk(L, "CUDA elementwise kernel"));
}

template <class T>
void relu_backward(const T* g, const T* x, T* dx, int64_t n, int device) {
  launch(relu_backward_kernel<T>, n, device, g, x, dx, n);
}

template <class From, class To>
void cast(const From* x, To* y, int64_t n, int device) {
  launch(cast_kernel<From, To>, n, device, x, y, n);
}

// The CPU kernels' instantiations, one for one.
#define DML_INSTANTIATE(T)                                                                         \
  template void unary<T>(UnaryOp, const T*, T*, int64_t, double, double, int);                     \
  template void binary<T>(BinaryOp, const T*, const T*, T*, const StridedLayout<2>&, int);         \
  template void compare<T>(CompareOp, const T*, const T*, uint8_t*, const StridedLayout<2>&, int); \
  template void where<T>(const uint8_t*, const T*, const T*, T*, const StridedLayout<3>&, int);    \
  template void relu_backward<T>(const T*, const T*, T*, int64_t, int);
DML_INSTANTIATE(float)
DML_INSTANTIATE(double)
#undef DML_INSTANTIATE

template void compare<int64_t>(CompareOp, const int64_t*, const int64_t*, uint8_t*,
                               const StridedLayout<2>&, int);
template void compare<int32_t>(CompareOp, const int32_t*, const int32_t*, uint8_t*,
                               const StridedLayout<2>&, int);
template void compare<uint8_t>(CompareOp, const uint8_t*, const uint8_t*, uint8_t*,
                               const StridedLayout<2>&, int);
template void where<int64_t>(const uint8_t*, const int64_t*, const int64_t*, int64_t*,
                             const StridedLayout<3>&, int);

#define DML_INSTANTIATE_CAST(From, To) template void cast<From, To>(const From*, To*, int64_t, int);
DML_FOR_EACH_CAST(DML_INSTANTIATE_CAST)
#undef DML_INSTANTIATE_CAST

}  // namespace dml::cuda
