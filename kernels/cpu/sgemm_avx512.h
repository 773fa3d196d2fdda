#pragma once
// Single-precision GEMM on AVX-512 (packed panels, register-blocked FMA
// microkernel, OpenMP threads), for CPUs where the linked OpenBLAS runs
// narrower kernels. Same contract as dml::cpu::gemm<float>: row-major,
// C = alpha * op(A) op(B) + beta * C with op(A) m x k and op(B) k x n, leading
// dimensions are row strides, and beta == 0 overwrites C without reading it.
//
// sgemm_avx512.cpp is the only file built with AVX-512 enabled: call
// sgemm_avx512 only after sgemm_avx512_supported() returned true.
#include <cstdint>

namespace dml::cpu {

// Whether this CPU runs AVX-512F (with VL and DQ); checked once.
bool sgemm_avx512_supported();

void sgemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                  int64_t ldc);

}  // namespace dml::cpu
