#include "kernels/cpu/elementwise.h"

#include "base/dtype.h"

namespace dml::cpu {

namespace {
template <class T, class F>
void map1(const T* x, T* y, int64_t n, F f) {
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

// Same-shape and scalar-operand layouts take a flat loop; the rest walks rows.
template <size_t K>
bool is_flat(const StridedLayout<K>& L, size_t k) {
  int64_t expect = 1;
  for (int d = int(L.shape.size()) - 1; d >= 0; --d) {
    if (L.shape[d] != 1 && L.strides[k][d] != expect) return false;
    expect *= L.shape[d];
  }
  return true;
}
template <size_t K>
bool is_scalar(const StridedLayout<K>& L, size_t k) {
  for (int64_t s : L.strides[k])
    if (s != 0) return false;
  return true;
}

template <class T, class R, class F>
void map2(const T* a, const T* b, R* out, const StridedLayout<2>& L, F f) {
  int64_t n = 1;
  for (int64_t s : L.shape) n *= s;
  bool fa = is_flat(L, 0), fb = is_flat(L, 1);
  if (fa && fb) {
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
  } else if (fa && is_scalar(L, 1)) {
    const T s = b[0];
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], s);
  } else {
    for_each_strided(
        L, [&](int64_t i, const std::array<int64_t, 2>& o) { out[i] = f(a[o[0]], b[o[1]]); });
  }
}
}  // namespace

template <class T>
void unary(UnaryOp op, const T* x, T* y, int64_t n, double p0, double p1) {
  kernels::visit(op, T(p0), T(p1), [&](auto f) { map1(x, y, n, f); });
}

template <class T>
void binary(BinaryOp op, const T* a, const T* b, T* out, const StridedLayout<2>& L) {
  kernels::visit<T>(op, [&](auto f) { map2(a, b, out, L, f); });
}

template <class T>
void compare(CompareOp op, const T* a, const T* b, uint8_t* out, const StridedLayout<2>& L) {
  kernels::visit<T>(op, [&](auto f) { map2(a, b, out, L, f); });
}

template <class T>
void where(const uint8_t* cond, const T* a, const T* b, T* out, const StridedLayout<3>& L) {
  for_each_strided(L, [&](int64_t i, const std::array<int64_t, 3>& o) {
    out[i] = cond[o[0]] ? a[o[1]] : b[o[2]];
  });
}

template <class T>
void relu_backward(const T* g, const T* x, T* dx, int64_t n) {
  // g is loaded unconditionally (an argument): a load inside the select keeps
  // GCC from vectorising, and the branch mispredicts on activations of
  // random sign.
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) dx[i] = kernels::relu_grad(g[i], x[i]);
}

template <class From, class To>
void cast(const From* x, To* y, int64_t n) {
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) y[i] = kernels::narrow<To>(kernels::widen(x[i]));
}

#define DML_INSTANTIATE(T)                                                                    \
  template void unary<T>(UnaryOp, const T*, T*, int64_t, double, double);                     \
  template void binary<T>(BinaryOp, const T*, const T*, T*, const StridedLayout<2>&);         \
  template void compare<T>(CompareOp, const T*, const T*, uint8_t*, const StridedLayout<2>&); \
  template void where<T>(const uint8_t*, const T*, const T*, T*, const StridedLayout<3>&);    \
  template void relu_backward<T>(const T*, const T*, T*, int64_t);
DML_INSTANTIATE(float)
DML_INSTANTIATE(double)
#undef DML_INSTANTIATE

// Comparisons and selection also serve integer labels and masks.
template void compare<int64_t>(CompareOp, const int64_t*, const int64_t*, uint8_t*,
                               const StridedLayout<2>&);
template void compare<int32_t>(CompareOp, const int32_t*, const int32_t*, uint8_t*,
                               const StridedLayout<2>&);
template void compare<uint8_t>(CompareOp, const uint8_t*, const uint8_t*, uint8_t*,
                               const StridedLayout<2>&);
template void where<int64_t>(const uint8_t*, const int64_t*, const int64_t*, int64_t*,
                             const StridedLayout<3>&);

#define DML_INSTANTIATE_CAST(From, To) template void cast<From, To>(const From*, To*, int64_t);
DML_FOR_EACH_CAST(DML_INSTANTIATE_CAST)
#undef DML_INSTANTIATE_CAST

}  // namespace dml::cpu
