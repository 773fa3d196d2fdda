// gemm_vector.inc built with the baseline flags: 128-bit vectors (SSE2 on
// x86-64, NEON on aarch64). x86-64 has 16 of those registers: 6 x 8 f32 tiles
// in 12; aarch64 has 32: 8 x 12 tiles in 24.
#define DML_GEMM_VECTOR_BYTES 16
#if defined(__aarch64__)
#define DML_GEMM_MR 8
#define DML_GEMM_NV 3
#else
#define DML_GEMM_MR 6
#define DML_GEMM_NV 2
#endif
#include "kernels/cpu/gemm_vector.inc"

namespace dml::cpu {

bool gemm_lean_shape(int64_t m, int64_t n, int64_t k) {
  return m <= 4 || n <= 4 || m * n * k < 16 * 16 * 16;
}

void gemm_portable(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                   const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                   int64_t ldc) {
  vector_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm_portable(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                   const double* a, int64_t lda, const double* b, int64_t ldb, double beta,
                   double* c, int64_t ldc) {
  vector_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace dml::cpu
