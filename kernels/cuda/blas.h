#pragma once
// Row-major GEMM through cuBLAS, with the signatures of kernels/cpu/gemm.h
// plus the device: C = alpha * op(A) op(B) + beta * C, op(A) m x k, op(B)
// k x n, leading dimensions are row strides. Each device has one cuBLAS handle
// bound to its stream (stream.h), so the products run in issue order with
// every other kernel of the device. Pointers are device memory.
#include <cstdint>

#include "kernels/storage_math.h"

namespace dml::cuda {

using kernels::gemm_scalar_t;

// TF32 tensor-core math for f32 products (10-bit mantissa inputs, f32
// accumulation; several times faster on Ampere and later, about 1e-3 relative
// error). Off by default so f32 results match the CPU's to f32 rounding.
// The one switch for cuBLAS and cuDNN: f32 convolutions (conv2d.h) read it
// too, and run with FMA math only while it is off.
void set_allow_tf32(bool on);
bool allow_tf32();

// f32 and f64 through cublas{S,D}gemm; bf16 through cublasGemmEx with
// CUDA_R_16BF A, B and C and CUBLAS_COMPUTE_32F (tensor cores; products
// accumulated in f32, reductions too: reduced-precision split-K reductions
// are disallowed; alpha * AB + beta * C rounded to bf16 once). alpha and
// beta are f32 for bf16 (kernels::gemm_scalar_t).
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, gemm_scalar_t<T> alpha,
          const T* a, int64_t lda, const T* b, int64_t ldb, gemm_scalar_t<T> beta, T* c,
          int64_t ldc, int device);

// `batch` independent GEMMs of contiguous matrices, operands `stride_*`
// elements apart (0 broadcasts one matrix to every batch).
template <class T>
void gemm_batched(int64_t batch, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                  gemm_scalar_t<T> alpha, const T* a, int64_t stride_a, const T* b,
                  int64_t stride_b, gemm_scalar_t<T> beta, T* c, int64_t stride_c, int device);

}  // namespace dml::cuda
