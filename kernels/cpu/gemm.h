#pragma once
// Row-major GEMM: C = alpha * op(A) op(B) + beta * C, op(A) is m x k, op(B)
// is k x n. Leading dimensions are row strides; beta == 0 never reads C; with
// k == 0 or alpha == 0, C = beta * C and A, B are not read.
//
// The path is isa.h's active one: f32 on the AVX-512 SGEMM (sgemm_avx512.h)
// for products that repay packing, everything else on the engine's vector
// GEMM (gemm_vector.h) built for AVX2 or portable code. A build with OpenBLAS
// (DML_OPENBLAS=ON) hands it what it runs faster (f64, f32 off the AVX-512
// path, small f32 products) unless a path was chosen by hand (DML_ISA,
// ScopedIsa); DML_GEMM=openblas hands it everything else.
//
// f32 and f64; bf16 too (the specialisations below): A, B and C bf16, the
// product accumulated in f32 as gemm_bf16_f32 does, alpha * AB + beta * C
// rounded to bf16 once (by the bf16 dot-product kernels themselves, or from an
// f32 copy).
#include <cstdint>

#include "base/dtype.h"
#include "kernels/storage_math.h"

namespace dml::cpu {

// The type of alpha and beta: the element type, except f32 for bf16
// operands, whose products are accumulated and scaled in f32 (as cuBLAS's
// CUBLAS_COMPUTE_32F takes them).
using kernels::gemm_scalar_t;

// Whether this build links OpenBLAS (DML_OPENBLAS=ON).
bool gemm_openblas_built();
// Whether DML_GEMM=openblas is set in such a build (read once).
bool gemm_openblas_forced();

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, gemm_scalar_t<T> alpha,
          const T* a, int64_t lda, const T* b, int64_t ldb, gemm_scalar_t<T> beta, T* c,
          int64_t ldc);

// `batch` independent GEMMs, operands `stride_*` elements apart (0 broadcasts).
template <class T>
void gemm_batched(int64_t batch, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                  gemm_scalar_t<T> alpha, const T* a, int64_t stride_a, const T* b,
                  int64_t stride_b, gemm_scalar_t<T> beta, T* c, int64_t stride_c);

// A and B bf16, C f32: C = alpha * op(A) op(B) + beta * C accumulated in f32,
// never rounded to bf16 (a caller may sum several products in C). The path
// decides how: amx on AMX tiles, avx512_bf16 on AVX512-BF16 dot products
// (bf16gemm.h: both treat denormal bf16 as zero), the paths below on the f32
// GEMM of widened copies (bf16_widen.h: the exact reference).
void gemm_bf16_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                   const bf16* a, int64_t lda, const bf16* b, int64_t ldb, float beta, float* c,
                   int64_t ldc);

template <>
void gemm<bf16>(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                const bf16* a, int64_t lda, const bf16* b, int64_t ldb, float beta, bf16* c,
                int64_t ldc);
template <>
void gemm_batched<bf16>(int64_t batch, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                        float alpha, const bf16* a, int64_t stride_a, const bf16* b,
                        int64_t stride_b, float beta, bf16* c, int64_t stride_c);

}  // namespace dml::cpu
