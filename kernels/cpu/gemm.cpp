#include "kernels/cpu/gemm.h"

#if defined(DML_WITH_OPENBLAS)
#include <cblas.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "kernels/cpu/bf16_widen.h"
#include "kernels/cpu/bf16gemm.h"
#include "kernels/cpu/gemm_vector.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/sgemm_avx512.h"

namespace dml::cpu {

namespace {

// The engine's own kernels on `isa`: f32 products that repay packing on the
// AVX-512 SGEMM (sgemm_avx512.h), the rest (lean shapes, f64) on the
// vector GEMM built for the widest of AVX2 and portable that the path allows.
template <class T>
void own_gemm(Isa isa, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha,
              const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
#if defined(__x86_64__)
  if constexpr (std::is_same_v<T, float>) {
    if (isa >= Isa::avx512 && !gemm_lean_shape(m, n, k))
      return sgemm_avx512(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  if (isa >= Isa::avx2)
    return gemm_avx2(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#else
  (void)isa;
#endif
  gemm_portable(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// A product with no terms (k == 0 or alpha == 0): C = beta * C, A and B
// unread (BLAS's rule: NaNs in them do not reach C), and beta == 0 clears C,
// NaNs too.
template <class T>
void scale_c(int64_t m, int64_t n, T beta, T* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
}

#if defined(DML_WITH_OPENBLAS)
void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float alpha,
               const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, double alpha,
               const double* a, int lda, const double* b, int ldb, double beta, double* c,
               int ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// Whether OpenBLAS takes this product. By hand: a path chosen by hand
// (DML_ISA, ScopedIsa) none, so that tests run the engine's own kernels of
// each path; else DML_GEMM=openblas every product. Otherwise it keeps what it
// runs faster than ours (measured on one core, docs/PERFORMANCE.md): f64,
// f32 off the AVX-512 path (its AVX2 kernels run up to 20% faster than our
// AVX2 build on long-k products), and f32 products too small to repay our
// packing or lean loops (under 32^3 multiply-adds: 0.6 us against 1.3 us at
// 31^3) but for C four or fewer rows or columns wide, where our lean path
// is faster.
template <class T>
bool use_openblas(Isa isa, int64_t m, int64_t n, int64_t k) {
  if (active_isa_source() != IsaSource::cpu) return false;
  if (gemm_openblas_forced()) return true;
  if constexpr (std::is_same_v<T, float>)
    return isa < Isa::avx512 || (m > 4 && n > 4 && m * n * k < 32 * 32 * 32);
  return true;
}
#endif

}  // namespace

bool gemm_openblas_built() {
#if defined(DML_WITH_OPENBLAS)
  return true;
#else
  return false;
#endif
}

bool gemm_openblas_forced() {
  static const bool forced = [] {
    const char* env = std::getenv("DML_GEMM");
    return gemm_openblas_built() && env && std::strcmp(env, "openblas") == 0;
  }();
  return forced;
}

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, gemm_scalar_t<T> alpha,
          const T* a, int64_t lda, const T* b, int64_t ldb, gemm_scalar_t<T> beta, T* c,
          int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == T(0)) return scale_c(m, n, beta, c, ldc);
  const Isa isa = active_isa();
#if defined(DML_WITH_OPENBLAS)
  if (use_openblas<T>(isa, m, n, k))
    return blas_gemm(trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                     int(m), int(n), int(k), alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
#endif
  own_gemm(isa, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <class T>
void gemm_batched(int64_t batch, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                  gemm_scalar_t<T> alpha, const T* a, int64_t stride_a, const T* b,
                  int64_t stride_b, gemm_scalar_t<T> beta, T* c, int64_t stride_c) {
  int64_t lda = trans_a ? m : k, ldb = trans_b ? k : n;
  for (int64_t i = 0; i < batch; ++i)
    gemm(trans_a, trans_b, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb, beta,
         c + i * stride_c, n);
}

// bf16: products accumulated in f32 (gemm_bf16_f32), C rounded to bf16 once.
namespace {

// The conversions below go parallel past kParallelGrain elements.
int64_t row_grain(int64_t cols) {
  return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(cols, 1));
}

// A packed f32 copy of the rows x cols matrix at p with row stride ld.
F32Buffer widen_matrix(const bf16* p, int64_t rows, int64_t cols, int64_t ld) {
  F32Buffer out(rows * cols);
  float* o = out.get();
  parallel_for(
      rows,
      [&](int64_t r) {
        for (int64_t j = 0; j < cols; ++j) o[r * cols + j] = to_float(p[r * ld + j]);
      },
      row_grain(cols));
  return out;
}

// The packed rows x cols f32 matrix p rounded into out, row stride ld.
void narrow_matrix(const float* p, int64_t rows, int64_t cols, bf16* out, int64_t ld) {
  parallel_for(
      rows,
      [&](int64_t r) {
        for (int64_t j = 0; j < cols; ++j) out[r * ld + j] = to_bf16(p[r * cols + j]);
      },
      row_grain(cols));
}

}  // namespace

void gemm_bf16_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                   const bf16* a, int64_t lda, const bf16* b, int64_t ldb, float beta, float* c,
                   int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == 0.f) return scale_c(m, n, beta, c, ldc);
#if defined(__x86_64__)
  const Isa isa = active_isa();
  if (isa >= Isa::amx)
    return bf16gemm_amx(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (isa >= Isa::avx512_bf16)
    return bf16gemm_avx512(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
  // Each operand widened to a packed copy (leading dimension = its width).
  const int64_t a_cols = trans_a ? m : k, b_cols = trans_b ? k : n;
  const F32Buffer af = widen_matrix(a, trans_a ? k : m, a_cols, lda);
  const F32Buffer bf = widen_matrix(b, trans_b ? n : k, b_cols, ldb);
  gemm<float>(trans_a, trans_b, m, n, k, alpha, af.get(), a_cols, bf.get(), b_cols, beta, c, ldc);
}

template <>
void gemm<bf16>(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                const bf16* a, int64_t lda, const bf16* b, int64_t ldb, float beta, bf16* c,
                int64_t ldc) {
  if (m == 0 || n == 0) return;
#if defined(__x86_64__)
  // The bf16 dot-product kernels round their f32 results to bf16 themselves
  // (k up to kBf16CMaxK).
  const Isa isa = active_isa();
  const bool rounds_itself = k != 0 && k <= kBf16CMaxK && alpha != 0.f;
  if (rounds_itself && isa >= Isa::amx)
    return bf16gemm_amx(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (rounds_itself && isa >= Isa::avx512_bf16)
    return bf16gemm_avx512(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
  // beta == 0: C is not read (BLAS's rule), so it is not widened either.
  const F32Buffer cf = beta == 0.f ? F32Buffer(m * n) : widen_matrix(c, m, n, ldc);
  gemm_bf16_f32(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, cf.get(), n);
  narrow_matrix(cf.get(), m, n, c, ldc);
}

template <>
void gemm_batched<bf16>(int64_t batch, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                        float alpha, const bf16* a, int64_t stride_a, const bf16* b,
                        int64_t stride_b, float beta, bf16* c, int64_t stride_c) {
  const int64_t lda = trans_a ? m : k, ldb = trans_b ? k : n;
  for (int64_t i = 0; i < batch; ++i)
    gemm<bf16>(trans_a, trans_b, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb, beta,
               c + i * stride_c, n);
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                           const double*, int64_t, double, double*, int64_t);
template void gemm_batched<float>(int64_t, bool, bool, int64_t, int64_t, int64_t, float,
                                  const float*, int64_t, const float*, int64_t, float, float*,
                                  int64_t);
template void gemm_batched<double>(int64_t, bool, bool, int64_t, int64_t, int64_t, double,
                                   const double*, int64_t, const double*, int64_t, double, double*,
                                   int64_t);

}  // namespace dml::cpu
