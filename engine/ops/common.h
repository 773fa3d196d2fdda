#pragma once
// Helpers every op implementation uses: argument checks whose errors name the
// op and the shapes, dtype dispatch, broadcasting and dimension bookkeeping.
#include <array>
#include <type_traits>
#include <utility>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "kernels/cpu/strided.h"

namespace dml::ops {

int64_t normalize_dim(const char* op, int64_t dim, int64_t ndim);

// Every tensor defined and all on one device, which is returned: the check
// of ops with kernels on every backend (engine/kernel_dispatch.h).
Device check_same_device(const char* op, std::initializer_list<const Tensor*> ts);
void check_float(const char* op, const Tensor& t);
// check_float of the ops that also compute in bf16 (conv2d, matmul, linear).
void check_float_or_bf16(const char* op, const Tensor& t);
void check_same_dtype(const char* op, const Tensor& a, const Tensor& b);
void check_dtype(const char* op, const char* what, const Tensor& t, DType want);
void check_dim(const char* op, const char* what, const Tensor& t, int64_t ndim);

// A typed pointer to the tensor's elements on whichever device holds them,
// for a kernel (Tensor::data<T>() is the CPU-only accessor).
template <class T>
T* kernel_data(const Tensor& t) {
  DML_CHECK(t.dtype() == dtype_of<T>::value, "kernel_data<", dtype_name(dtype_of<T>::value),
            ">() on a tensor ", describe(t));
  return static_cast<T*>(t.raw_data());
}

// Calls f(T{}) with T = float or double for the tensor's dtype.
template <class F>
decltype(auto) dispatch_float(const char* op, DType t, F&& f) {
  switch (t) {
    case DType::f32:
      return f(float{});
    case DType::f64:
      return f(double{});
    default:
      throw Error(
          detail::concat(op, ": dtype ", dtype_name(t), " is not supported here (use f32 or f64)"));
  }
}

// dispatch_float, and T = bf16 for bf16: the ops that compute in bf16.
template <class F>
decltype(auto) dispatch_float_or_bf16(const char* op, DType t, F&& f) {
  if (t == DType::bf16) return f(bf16{});
  return dispatch_float(op, t, std::forward<F>(f));
}

// sum() for the gradients of the bf16 ops: a bf16 tensor is summed in f32
// and rounded to bf16 once (the reductions take f32 and f64 only); any other
// dtype as sum() does. Runs inside backward rules (no history).
Tensor sum_widened(const Tensor& x, std::vector<int64_t> dims, bool keepdim = false);

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);
// Element strides reading a tensor of shape `in` as if broadcast to `out`.
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out);
std::vector<int64_t> contiguous_strides(const Shape& s);

// Sizes of the dims before, at and after `dim`: the [outer, n, inner] view.
struct OuterInner {
  int64_t outer, n, inner;
};
OuterInner split_at(const Shape& s, int64_t dim);

// A defined tensor of the broadcast-free shape with the same dtype/device.
Tensor empty_like(const Tensor& t);
Tensor empty_of(const Shape& shape, const Tensor& like);

}  // namespace dml::ops
