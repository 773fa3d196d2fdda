#include "kernels/cpu/elementwise.h"

#include "base/dtype.h"
#include "kernels/cpu/parallel_isa.h"

namespace dml::cpu {

namespace {

// Each kernel is one loop body (isa_dispatch.h) run on the active path's
// copy, over chunks (parallel_isa.h) or rows (for_each_strided_row). The
// element functions have no reductions and this file is compiled without
// floating-point contraction, so every path gives the same bits.

template <class T, class F>
DML_ISA_BODY void map1_body(int64_t begin, int64_t end, F f, const T* x, T* y) {
  for (int64_t i = begin; i < end; ++i) y[i] = f(x[i]);
}

// out[j] = f(a[j * sa], b[j * sb]) for j in [begin, end). The layouts that
// broadcasting makes (both contiguous, one operand repeated) get loops of
// their own, which vectorise; any other stride is read as it comes.
template <class T, class R, class F>
DML_ISA_BODY void map2_body(int64_t begin, int64_t end, F f, const T* a, int64_t sa, const T* b,
                            int64_t sb, R* out) {
  if (sa == 1 && sb == 1) {
    for (int64_t j = begin; j < end; ++j) out[j] = f(a[j], b[j]);
  } else if (sa == 1 && sb == 0) {
    const T s = b[0];
    for (int64_t j = begin; j < end; ++j) out[j] = f(a[j], s);
  } else if (sa == 0 && sb == 1) {
    const T s = a[0];
    for (int64_t j = begin; j < end; ++j) out[j] = f(s, b[j]);
  } else {
    for (int64_t j = begin; j < end; ++j) out[j] = f(a[j * sa], b[j * sb]);
  }
}

// Same-shape and scalar-operand layouts take one flat loop; the rest walks
// rows of the last dimension.
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
  const bool fa = is_flat(L, 0), fb = is_flat(L, 1);
  const int64_t sa = fa ? 1 : is_scalar(L, 0) ? 0 : -1, sb = fb ? 1 : is_scalar(L, 1) ? 0 : -1;
  if ((sa >= 0 && sb >= 0) && (fa || fb)) {
    parallel_for_isa<map2_body<T, R, F>>(n, f, a, sa, b, sb, out);
    return;
  }
  const Isa isa = active_isa();
  const int64_t ia = inner_stride(L, 0), ib = inner_stride(L, 1);
  for_each_strided_row(L, [&](int64_t at, const std::array<int64_t, 2>& o, int64_t inner) {
    run_for_isa<map2_body<T, R, F>>(isa, int64_t(0), inner, f, a + o[0], ia, b + o[1], ib,
                                    out + at);
  });
}

// g is loaded unconditionally (an argument): a load inside the select keeps
// GCC from vectorising, and the branch mispredicts on activations of random
// sign.
template <class T>
DML_ISA_BODY void relu_backward_body(int64_t begin, int64_t end, const T* g, const T* x, T* dx) {
  for (int64_t i = begin; i < end; ++i) dx[i] = kernels::relu_grad(g[i], x[i]);
}

// Through double (kernels::widen, narrow), as on every backend; for f32 <->
// bf16 the compiler sees the exact round trip and vectorises the integer
// rounding of base/dtype.h's to_bf16 (ties to even, NaN kept and quiet).
template <class From, class To>
DML_ISA_BODY void cast_body(int64_t begin, int64_t end, const From* x, To* y) {
  for (int64_t i = begin; i < end; ++i) y[i] = kernels::narrow<To>(kernels::widen(x[i]));
}

}  // namespace

template <class T>
void unary(UnaryOp op, const T* x, T* y, int64_t n, double p0, double p1) {
  kernels::visit(op, T(p0), T(p1),
                 [&](auto f) { parallel_for_isa<map1_body<T, decltype(f)>>(n, f, x, y); });
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
  parallel_for_isa<relu_backward_body<T>>(n, g, x, dx);
}

template <class From, class To>
void cast(const From* x, To* y, int64_t n) {
  parallel_for_isa<cast_body<From, To>>(n, x, y);
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
