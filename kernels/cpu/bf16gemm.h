#pragma once
// GEMM on bf16 operands with f32 accumulation and an f32 C, on the CPUs that
// have bf16 dot products: C = alpha * op(A) op(B) + beta * C, row-major, A
// and B bf16, C f32 (so a caller can accumulate over several calls without
// rounding to bf16 in between). Same contract as dml::cpu::gemm for
// m, n, k > 0 and alpha != 0 (gemm.h's gemm_bf16_f32 handles the rest):
// leading dimensions are row strides, beta == 0 overwrites C without
// reading it.
//
// Both kernels multiply pairs of consecutive k: each f32 lane of C gains
// a(i, 2q) b(2q, j) + a(i, 2q + 1) b(2q + 1, j) per instruction, so B is
// packed pair-interleaved (for each pair of k steps, NR columns of two bf16
// each) and an odd k is padded with a zero. Unlike the widening path
// (bf16_widen.h), the bf16 dot-product instructions treat denormal bf16
// inputs as zero and flush denormal f32 results to zero (they ignore MXCSR):
// results differ only for operands or sums below 2^-126 in magnitude.
//
// Each lives in a file of its own built with its instruction set's flags, on
// x86-64 only: call bf16gemm_avx512 only when active_isa() (isa.h) is
// Isa::avx512_bf16 or above, bf16gemm_amx only when it is Isa::amx.
#include <cstdint>

#include "base/dtype.h"

namespace dml::cpu {

// Each kernel has a second entry point with a bf16 C: the same product, the
// f32 result alpha * op(A) op(B) + beta * C (C widened) rounded to bf16 once,
// to nearest even; its denormal results are flushed to zero as well. It takes
// all of k in one block (no f32 partial sums kept in C), so its B panels grow
// with k: past kBf16CMaxK (a 64-column panel of k * 128 bytes leaving a 1 MiB
// L2) the f32 entry point and a rounding pass run faster.
inline constexpr int64_t kBf16CMaxK = 5120;

// AVX512-BF16 (VDPBF16PS): packed panels, register-blocked, OpenMP threads.
void bf16gemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                     const bf16* a, int64_t lda, const bf16* b, int64_t ldb, float beta, float* c,
                     int64_t ldc);
void bf16gemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                     const bf16* a, int64_t lda, const bf16* b, int64_t ldb, float beta, bf16* c,
                     int64_t ldc);

// AMX (TDPBF16PS on 16 x 32 bf16 tiles). Not verified on a CPU with AMX.
void bf16gemm_amx(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const bf16* a, int64_t lda, const bf16* b, int64_t ldb, float beta, float* c,
                  int64_t ldc);
void bf16gemm_amx(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const bf16* a, int64_t lda, const bf16* b, int64_t ldb, float beta, bf16* c,
                  int64_t ldc);

}  // namespace dml::cpu
