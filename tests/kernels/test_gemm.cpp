// The AVX-512 SGEMM (kernels/cpu/sgemm_avx512) against a double-precision
// reference loop and against OpenBLAS, on shapes that cross every blocking
// boundary, with all four transpose combinations, padded leading dimensions,
// and the alpha / beta cases (beta == 0 must overwrite NaNs in C). Also
// dml::cpu::gemm<float>, whichever path it dispatches to.
//
// Error bound, per element of C: any order of summing k products in f32 is
// within (k + 2) * 2^-23 * (|alpha| * sum_p |a_ip b_pj| + |beta c_ij|) of the
// exact result (the usual gamma_k bound, with room for the alpha and beta
// roundings). The test checks exactly that, so it holds whatever the
// microkernel's accumulation order.
#include <cblas.h>
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/sgemm_avx512.h"

namespace {

struct Case {
  bool ta, tb;
  int64_t m, n, k;
  float alpha, beta;
  int64_t pad_a = 0, pad_b = 0, pad_c = 0;  // leading dimension minus its minimum
};

std::string describe(const Case& c) {
  return "ta=" + std::to_string(c.ta) + " tb=" + std::to_string(c.tb) +
         " m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) +
         " alpha=" + std::to_string(c.alpha) + " beta=" + std::to_string(c.beta) +
         " pads=" + std::to_string(c.pad_a) + "," + std::to_string(c.pad_b) + "," +
         std::to_string(c.pad_c);
}

// Operands of a case with random contents; C holds NaN when beta == 0 (it must
// never be read) and its padding columns hold a sentinel (never written).
struct Operands {
  int64_t lda, ldb, ldc;
  std::vector<float> a, b, c;
};

constexpr float kSentinel = -12345.f;

Operands make_operands(const Case& cs, uint32_t seed) {
  Operands o;
  const int64_t a_rows = cs.ta ? cs.k : cs.m, a_cols = cs.ta ? cs.m : cs.k;
  const int64_t b_rows = cs.tb ? cs.n : cs.k, b_cols = cs.tb ? cs.k : cs.n;
  o.lda = a_cols + cs.pad_a;
  o.ldb = b_cols + cs.pad_b;
  o.ldc = cs.n + cs.pad_c;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  o.a.resize(size_t(a_rows * o.lda));
  o.b.resize(size_t(b_rows * o.ldb));
  o.c.resize(size_t(cs.m * o.ldc));
  for (float& x : o.a) x = u(rng);
  for (float& x : o.b) x = u(rng);
  for (int64_t i = 0; i < cs.m; ++i)
    for (int64_t j = 0; j < o.ldc; ++j)
      o.c[size_t(i * o.ldc + j)] = j >= cs.n        ? kSentinel
                                   : cs.beta == 0.f ? std::numeric_limits<float>::quiet_NaN()
                                                    : u(rng);
  return o;
}

// Checks `got` (the C after the product) against the double reference within
// `slack` times the bound above; returns the number of bad elements.
int64_t check_against_reference(const Case& cs, const Operands& o, const std::vector<float>& got,
                                double slack) {
  int64_t bad = 0;
  for (int64_t i = 0; i < cs.m; ++i) {
    for (int64_t j = 0; j < o.ldc; ++j) {
      const float g = got[size_t(i * o.ldc + j)];
      if (j >= cs.n) {
        if (g != kSentinel && bad++ < 5) ADD_FAILURE() << describe(cs) << ": wrote padding";
        continue;
      }
      double sum = 0, mag = 0;
      for (int64_t p = 0; p < cs.k; ++p) {
        const double x = o.a[size_t(cs.ta ? p * o.lda + i : i * o.lda + p)];
        const double y = o.b[size_t(cs.tb ? j * o.ldb + p : p * o.ldb + j)];
        sum += x * y;
        mag += std::fabs(x * y);
      }
      const double c0 = cs.beta == 0.f ? 0.0 : double(o.c[size_t(i * o.ldc + j)]);
      const double want = double(cs.alpha) * sum + double(cs.beta) * c0;
      const double bound = slack * double(cs.k + 2) * std::ldexp(1.0, -23) *
                           (std::fabs(double(cs.alpha)) * mag + std::fabs(double(cs.beta) * c0));
      if (!(std::fabs(double(g) - want) <= bound) && bad++ < 5)
        ADD_FAILURE() << describe(cs) << ": C[" << i << "," << j << "] = " << g << ", want " << want
                      << " +- " << bound;
    }
  }
  return bad;
}

std::vector<float> run_avx512(const Case& cs, const Operands& o) {
  std::vector<float> c = o.c;
  dml::cpu::sgemm_avx512(cs.ta, cs.tb, cs.m, cs.n, cs.k, cs.alpha, o.a.data(), o.lda, o.b.data(),
                         o.ldb, cs.beta, c.data(), o.ldc);
  return c;
}

std::vector<float> run_openblas(const Case& cs, const Operands& o) {
  std::vector<float> c = o.c;
  cblas_sgemm(CblasRowMajor, cs.ta ? CblasTrans : CblasNoTrans, cs.tb ? CblasTrans : CblasNoTrans,
              int(cs.m), int(cs.n), int(cs.k), cs.alpha, o.a.data(), int(o.lda), o.b.data(),
              int(o.ldb), cs.beta, c.data(), int(o.ldc));
  return c;
}

void expect_matches_reference(const Case& cs, uint32_t seed) {
  const Operands o = make_operands(cs, seed);
  EXPECT_EQ(check_against_reference(cs, o, run_avx512(cs, o), 1.0), 0) << describe(cs);
}

#define SKIP_WITHOUT_AVX512()                                                 \
  if (!dml::cpu::sgemm_avx512_supported()) GTEST_SKIP() << "no AVX-512 here"; \
  static_assert(true)

// m, n, k from {1, primes, sizes around the tiles}, all four transposes, two
// alpha/beta mixes; products up to 2e6 multiply-adds.
TEST(SgemmAvx512, SmallAndPrimeSizes) {
  SKIP_WITHOUT_AVX512();
  const int64_t sizes[] = {1, 7, 13, 31, 33, 47, 65, 129, 257, 1000};
  uint32_t seed = 1;
  for (int t = 0; t < 4; ++t)
    for (int64_t m : sizes)
      for (int64_t n : sizes)
        for (int64_t k : sizes) {
          if (m * n * k > 2'000'000) continue;
          const bool odd = (m + n + k) % 2;
          Case cs{bool(t & 1), bool(t & 2), m, n, k, odd ? 1.f : -0.75f, odd ? 0.f : 0.5f};
          expect_matches_reference(cs, seed++);
        }
}

// Sizes on both sides of the blocking boundaries, with padded leading
// dimensions: tile edges (the kernel's MR x NR tiles are 8x48, 6x64, 14x32 and
// 24x16; the k-contiguous path's 4x6), the k block (256; up to 1024 on the
// k-contiguous path, taken for !trans_a && trans_b with k >= 512), the A block
// (192 rows at k block 256) and the B block (4096 columns per thread).
TEST(SgemmAvx512, BlockBoundaries) {
  SKIP_WITHOUT_AVX512();
  struct Dims {
    int64_t m, n, k;
  };
  const Dims dims[] = {
      {8, 48, 1},      {9, 49, 2},      {16, 96, 255},  {15, 95, 256},  {17, 97, 257},
      {6, 64, 100},    {7, 65, 100},    {14, 32, 100},  {24, 16, 100},  {25, 17, 33},
      {191, 47, 511},  {192, 48, 512},  {193, 49, 513}, {385, 100, 64}, {384, 144, 300},
      {3, 4095, 20},   {5, 4096, 33},   {2, 4097, 9},   {9, 8300, 5},   {200, 200, 700},
      {100, 20, 2000}, {20, 100, 2000}, {64, 576, 600}, {576, 300, 64}, {147, 200, 64},
      {5, 7, 1023},    {13, 11, 1024},  {4, 6, 1025},   {37, 23, 2049}, {300, 9, 1500},
  };
  uint32_t seed = 1000;
  for (int t = 0; t < 4; ++t)
    for (const Dims& d : dims) {
      Case cs{bool(t & 1), bool(t & 2), d.m, d.n, d.k, 1.f, 0.f, 3, 5, 7};
      expect_matches_reference(cs, seed++);
      cs.alpha = 2.5f;
      cs.beta = 1.f;
      cs.pad_a = 16;
      cs.pad_b = 1;
      cs.pad_c = 0;
      expect_matches_reference(cs, seed++);
    }
}

// Every alpha / beta kind on one padded shape that crosses the blocks.
TEST(SgemmAvx512, AlphaBeta) {
  SKIP_WITHOUT_AVX512();
  uint32_t seed = 2000;
  for (float alpha : {1.f, -1.f, 0.3f})
    for (float beta : {0.f, 1.f, 0.5f, -2.f})
      for (int t = 0; t < 4; ++t)
        expect_matches_reference({bool(t & 1), bool(t & 2), 70, 130, 300, alpha, beta, 2, 3, 4},
                                 seed++);
}

// No product (k == 0 or alpha == 0): C = beta * C, NaNs in C cleared by beta == 0,
// NaNs in A or B not propagated by alpha == 0.
TEST(SgemmAvx512, EmptyProduct) {
  SKIP_WITHOUT_AVX512();
  std::vector<float> c = {1.f, std::nanf(""), 3.f, 4.f};
  dml::cpu::sgemm_avx512(false, false, 2, 2, 0, 1.f, nullptr, 1, nullptr, 2, 0.f, c.data(), 2);
  EXPECT_EQ(c, (std::vector<float>{0.f, 0.f, 0.f, 0.f}));
  c = {1.f, 2.f, 3.f, 4.f};
  dml::cpu::sgemm_avx512(false, false, 2, 2, 0, 1.f, nullptr, 1, nullptr, 2, 0.5f, c.data(), 2);
  EXPECT_EQ(c, (std::vector<float>{0.5f, 1.f, 1.5f, 2.f}));
  const std::vector<float> a(4, std::nanf("")), b(4, 1.f);
  c = {1.f, 2.f, 3.f, 4.f};
  dml::cpu::sgemm_avx512(false, false, 2, 2, 2, 0.f, a.data(), 2, b.data(), 2, 2.f, c.data(), 2);
  EXPECT_EQ(c, (std::vector<float>{2.f, 4.f, 6.f, 8.f}));
}

// Large enough to run on all threads, in both grid shapes (rows split: tall C;
// columns split: wide C), and the ResNet GEMM forms: forward, backward-data
// (trans_a) and backward-filter (trans_b, long k); B over 8 MiB (prefetched
// block by block).
TEST(SgemmAvx512, ThreadedShapes) {
  SKIP_WITHOUT_AVX512();
  const Case cases[] = {
      {false, false, 512, 96, 300, 1.f, 0.f},   {false, false, 16, 3000, 200, 1.f, 0.f},
      {false, false, 64, 2000, 576, 1.f, 0.f},  {true, false, 576, 1000, 64, 1.f, 0.f},
      {false, true, 64, 576, 3000, 1.f, 1.f},   {false, true, 64, 147, 2000, 1.f, 0.5f},
      {true, true, 300, 301, 302, -1.f, 0.25f}, {false, false, 1000, 9, 1000, 1.f, 0.f},
      {false, false, 9, 9000, 100, 1.f, 0.f},   {true, false, 27, 8500, 64, 1.f, 0.f},
      {false, false, 16, 4200, 600, 1.f, 0.5f}, {true, false, 20, 4100, 700, 1.f, 0.f},
  };
  uint32_t seed = 3000;
  for (const Case& cs : cases) expect_matches_reference(cs, seed++);
}

// Calls from inside a parallel region (each thread its own product) run on one
// thread each and do not share packing buffers.
TEST(SgemmAvx512, CalledFromParallelRegion) {
  SKIP_WITHOUT_AVX512();
  const Case cs{false, true, 100, 150, 400, 1.f, 0.f};
  const int threads = 4;
  std::vector<Operands> ops;
  std::vector<std::vector<float>> got(threads);
  for (int t = 0; t < threads; ++t) ops.push_back(make_operands(cs, 4000 + t));
#pragma omp parallel for num_threads(threads)
  for (int t = 0; t < threads; ++t) got[size_t(t)] = run_avx512(cs, ops[size_t(t)]);
  for (int t = 0; t < threads; ++t)
    EXPECT_EQ(check_against_reference(cs, ops[size_t(t)], got[size_t(t)], 1.0), 0);
}

// OpenBLAS and the AVX-512 kernel agree within twice the bound (each is within
// one bound of the exact product), on larger products than the reference loop
// can afford everywhere: compared elementwise against each other, with the
// bound's magnitude taken from |A| |B| computed in float.
TEST(SgemmAvx512, AgreesWithOpenBlas) {
  SKIP_WITHOUT_AVX512();
  const Case cases[] = {
      {false, false, 257, 1025, 513, 1.f, 0.f},
      {true, false, 513, 700, 129, 1.f, 0.5f},
      {false, true, 128, 576, 4000, 1.f, 1.f},
      {true, true, 333, 444, 555, 0.5f, 0.f},
  };
  uint32_t seed = 5000;
  for (const Case& cs : cases) {
    const Operands o = make_operands(cs, seed++);
    const std::vector<float> ours = run_avx512(cs, o), blas = run_openblas(cs, o);
    // |alpha| |A| |B| + |beta C| through the kernel itself, on absolute values.
    Case abs_case = cs;
    abs_case.alpha = std::fabs(cs.alpha);
    abs_case.beta = std::fabs(cs.beta);
    Operands abs_o = o;
    for (float& x : abs_o.a) x = std::fabs(x);
    for (float& x : abs_o.b) x = std::fabs(x);
    for (float& x : abs_o.c) x = std::fabs(x);
    const std::vector<float> mag = run_openblas(abs_case, abs_o);
    int64_t bad = 0;
    for (int64_t i = 0; i < cs.m; ++i)
      for (int64_t j = 0; j < cs.n; ++j) {
        const size_t at = size_t(i * o.ldc + j);
        const double bound = 2.0 * double(cs.k + 2) * std::ldexp(1.0, -23) * 1.01 * mag[at];
        if (!(std::fabs(double(ours[at]) - double(blas[at])) <= bound) && bad++ < 5)
          ADD_FAILURE() << describe(cs) << ": C[" << i << "," << j << "] = " << ours[at]
                        << ", OpenBLAS " << blas[at];
      }
    EXPECT_EQ(bad, 0) << describe(cs);
  }
}

// dml::cpu::gemm<float> (dispatching to the AVX-512 kernel or OpenBLAS by size
// and DML_GEMM) keeps the contract on small and large shapes.
TEST(Gemm, FloatDispatch) {
  const Case cases[] = {
      {false, false, 1, 1, 1, 1.f, 0.f},     {false, true, 3, 5, 7, 1.f, 0.f},
      {true, false, 20, 30, 40, 2.f, 0.5f},  {false, false, 300, 200, 100, 1.f, 0.f},
      {true, true, 150, 260, 310, 1.f, 1.f}, {false, true, 64, 576, 1500, 1.f, 0.f},
  };
  uint32_t seed = 6000;
  for (const Case& cs : cases) {
    const Operands o = make_operands(cs, seed++);
    std::vector<float> c = o.c;
    dml::cpu::gemm<float>(cs.ta, cs.tb, cs.m, cs.n, cs.k, cs.alpha, o.a.data(), o.lda, o.b.data(),
                          o.ldb, cs.beta, c.data(), o.ldc);
    EXPECT_EQ(check_against_reference(cs, o, c, 1.0), 0) << describe(cs);
  }
}

}  // namespace
