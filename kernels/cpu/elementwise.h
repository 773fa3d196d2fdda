#pragma once
// Elementwise kernels on contiguous buffers, f32 and f64. Binary and
// comparison kernels read their inputs through broadcast strides. The op
// codes and per-element arithmetic are shared with the CUDA kernels
// (kernels/elementwise_ops.h).
#include <cstdint>

#include "kernels/cpu/strided.h"

namespace dml::cpu {

using kernels::BinaryOp;
using kernels::CompareOp;
using kernels::UnaryOp;

template <class T>
void unary(UnaryOp op, const T* x, T* y, int64_t n, double p0 = 0, double p1 = 0);

// out = op(a, b) with a, b read through L.strides[0], L.strides[1].
template <class T>
void binary(BinaryOp op, const T* a, const T* b, T* out, const StridedLayout<2>& L);

template <class T>
void compare(CompareOp op, const T* a, const T* b, uint8_t* out, const StridedLayout<2>& L);

// out = cond ? a : b, all three read through L.strides.
template <class T>
void where(const uint8_t* cond, const T* a, const T* b, T* out, const StridedLayout<3>& L);

// dx = g where x > 0, else 0 (the ReLU backward every conv block runs; x may
// be the ReLU's input or its output, which are positive at the same places).
template <class T>
void relu_backward(const T* g, const T* x, T* dx, int64_t n);

// Converts n elements between any two element types.
template <class From, class To>
void cast(const From* x, To* y, int64_t n);

}  // namespace dml::cpu
