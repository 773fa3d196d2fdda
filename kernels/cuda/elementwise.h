#pragma once
// The elementwise kernels on a CUDA device: the CPU kernels' signatures
// (kernels/cpu/elementwise.h) plus the device, on whose stream they run
// without waiting. Pointers are device memory. The op codes and the
// arithmetic of one element are the CPU's (kernels/elementwise_ops.h).
#include <cstdint>

#include "kernels/elementwise_ops.h"

namespace dml::cuda {

using kernels::BinaryOp;
using kernels::CompareOp;
using kernels::StridedLayout;
using kernels::UnaryOp;

// A strided layout is first reduced to its fewest dims (size-1 dims dropped,
// dims that every input steps through as one merged), so a same-shape or
// scalar operand walks one flat dim; what is left may have at most this many
// dims (an error names the layout otherwise).
constexpr int kMaxDims = 8;

template <class T>
void unary(UnaryOp op, const T* x, T* y, int64_t n, double p0, double p1, int device);

// out = op(a, b) with a, b read through L.strides[0], L.strides[1].
template <class T>
void binary(BinaryOp op, const T* a, const T* b, T* out, const StridedLayout<2>& L, int device);

template <class T>
void compare(CompareOp op, const T* a, const T* b, uint8_t* out, const StridedLayout<2>& L,
             int device);

// out = cond ? a : b, all three read through L.strides.
template <class T>
void where(const uint8_t* cond, const T* a, const T* b, T* out, const StridedLayout<3>& L,
           int device);

// dx = g where x > 0, else 0.
template <class T>
void relu_backward(const T* g, const T* x, T* dx, int64_t n, int device);

// Converts n elements between any two element types, rounding as the CPU.
template <class From, class To>
void cast(const From* x, To* y, int64_t n, int device);

}  // namespace dml::cuda
