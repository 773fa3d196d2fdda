#pragma once
// The engine's own GEMM for f32 and f64, one source (gemm_vector.inc) built
// per instruction set: gemm_avx2 (AVX2 + FMA, x86-64 only: call it only when
// cpu_isa() >= Isa::avx2) and gemm_portable (the baseline flags: SSE2 on
// x86-64, NEON on aarch64; runs everywhere). Both keep gemm()'s contract for
// m, n, k > 0 and alpha != 0 (gemm() handles the rest): row-major,
// C = alpha op(A) op(B) + beta C, leading dimensions are row strides,
// beta == 0 never reads C.
#include <cstdint>

namespace dml::cpu {

// Whether a product takes the lean path (no packing): C at most four rows or
// columns wide, where packed panels would be mostly padding and each packed
// element used a few times (measured, one row through a 2048 x 512 Linear:
// 76 us lean, 215 us OpenBLAS), or fewer than 16^3 multiply-adds, where
// packing costs more than it saves (measured: lean wins at 8^3, packed from
// 16^3, by 5x at 31^3).
bool gemm_lean_shape(int64_t m, int64_t n, int64_t k);

void gemm_portable(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                   const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                   int64_t ldc);
void gemm_portable(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                   const double* a, int64_t lda, const double* b, int64_t ldb, double beta,
                   double* c, int64_t ldc);

#if defined(__x86_64__)
void gemm_avx2(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
               int64_t ldc);
void gemm_avx2(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
               const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
               int64_t ldc);
#endif

}  // namespace dml::cpu
