#pragma once
// Single-precision GEMM on AVX-512 (packed panels, register-blocked FMA
// microkernel, OpenMP threads): gemm<float>'s avx512 path. Same contract as
// dml::cpu::gemm<float> for m, n, k > 0 and alpha != 0 (gemm() handles the
// rest): row-major,
// C = alpha * op(A) op(B) + beta * C with op(A) m x k and op(B) k x n, leading
// dimensions are row strides, and beta == 0 overwrites C without reading it.
//
// sgemm_avx512.cpp is the only file built with AVX-512 enabled and only on
// x86-64: call sgemm_avx512 only when cpu_isa() (isa.h) is Isa::avx512 or above.
#include <cstdint>

namespace dml::cpu {

// An operand that is not in memory: fill(ctx, row0, rows, col0, cols, dst,
// ld) writes its elements [row0, row0 + rows) x [col0, col0 + cols) to dst,
// row-major with rows ld floats apart. The GEMM asks for the blocks it packs,
// a few cache-sized pieces at a time, so a matrix that is cheap to compute
// from something smaller (a convolution's column matrix, from the image) is
// never stored whole.
struct MatrixSource {
  void (*fill)(const void* ctx, int64_t row0, int64_t rows, int64_t col0, int64_t cols, float* dst,
               int64_t ld);
  const void* ctx;
};

void sgemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                  int64_t ldc);

// The same product with B given by a MatrixSource in B's own coordinates
// (k x n, or n x k with trans_b); its blocks are filled as they are packed.
void sgemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, const MatrixSource& b, float beta, float* c,
                  int64_t ldc);

}  // namespace dml::cpu
