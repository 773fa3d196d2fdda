// gemm_vector.inc built for AVX2 + FMA (this file alone gets -mavx2 -mfma):
// 256-bit vectors, 6 x 16 f32 (6 x 8 f64) tiles in 12 of the 16 ymm
// registers.
#define DML_GEMM_VECTOR_BYTES 32
#define DML_GEMM_MR 6
#define DML_GEMM_NV 2
#include "kernels/cpu/gemm_vector.inc"

namespace dml::cpu {

void gemm_avx2(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
               int64_t ldc) {
  vector_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm_avx2(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
               const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
               int64_t ldc) {
  vector_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace dml::cpu
