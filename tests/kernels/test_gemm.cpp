// dml::cpu::gemm on every instruction-set path this CPU runs (ScopedIsa):
// f32 and f64 against a double-precision reference loop, each path against
// the portable one, bf16 through its specialisation; and the AVX-512 SGEMM
// (kernels/cpu/sgemm_avx512) directly across its own blocking. Shapes cross
// every edge: m, n, k = 1, the tiles, the k / A / B blocks, the lean path's
// bounds, products large enough to use threads; all four transposes, padded
// leading dimensions (padding never written), alpha and beta kinds
// (beta == 0 must not read C, which holds NaN), k == 0 and alpha == 0.
// Error bounds: tests/kernels/gemm_reference.h.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "base/dtype.h"
#include "base/error.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/sgemm_avx512.h"
#include "tests/kernels/gemm_reference.h"

namespace {

using dml::cpu::Isa;
using dml::cpu::ScopedIsa;
using namespace dml::test;

// Checks `got` against the reference; returns the number of bad elements.
template <class T>
int64_t check_against_reference(const Case& cs, const Operands<T>& o, const Reference& r,
                                const std::vector<T>& got) {
  const Mismatches bad = compare(cs, o, r, got);
  if (bad.count) ADD_FAILURE() << bad.count << " bad elements:" << bad.first;
  return bad.count;
}

// One case on every path against one reference.
template <class T>
void expect_every_path_matches(const Case& cs, uint32_t seed) {
  const Operands<T> o = make_operands<T>(cs, seed);
  const Reference r = reference(cs, o);
  for (Isa isa : paths_here()) {
    const ScopedIsa scope(isa);
    EXPECT_EQ(check_against_reference(cs, o, r, run_gemm(cs, o)), 0) << describe(cs);
  }
}

// Every case on every path, in f32 and f64.
void expect_every_path(const std::vector<Case>& cases, uint32_t seed) {
  for (const Case& cs : cases) {
    expect_every_path_matches<float>(cs, seed);
    expect_every_path_matches<double>(cs, seed++);
  }
}

// m, n, k from {1, 2, 3, 4, 5, odd sizes, sizes around the vector GEMM's
// tiles (6 rows; 4, 8, 16 columns)}: the lean path (m or n <= 4, or under
// 16^3 multiply-adds) and the packed one; all four transposes, two
// alpha / beta mixes.
TEST(GemmPaths, SmallAndOddSizes) {
  const int64_t sizes[] = {1, 2, 3, 4, 5, 6, 7, 9, 16, 17, 33, 65};
  std::vector<Case> cases;
  for (int t = 0; t < 4; ++t)
    for (int64_t m : sizes)
      for (int64_t n : sizes)
        for (int64_t k : {int64_t{1}, int64_t{7}, int64_t{40}}) {
          const bool odd = (m + n + k) % 2;
          cases.push_back({bool(t & 1), bool(t & 2), m, n, k, odd ? 1.0 : -0.75, odd ? 0.0 : 0.5});
        }
  expect_every_path(cases, 1);
}

// Sizes on both sides of the blocking edges, with padded leading dimensions:
// the lean bounds (4 / 5 rows or columns, 16^3 multiply-adds), the vector
// GEMM's k block (256), A block (120 rows) and B block (2048 columns); the
// AVX-512 SGEMM's tiles (8x48, 6x64, 14x32, 24x16), k-contiguous path (k >=
// 512 with trans_b) and blocks; long k in the lean dot form (one row of C
// through a Linear layer).
TEST(GemmPaths, BlockEdges) {
  struct Dims {
    int64_t m, n, k;
  };
  const Dims dims[] = {
      {4, 300, 50},   {5, 300, 50},  {300, 4, 50},   {300, 5, 50},   {16, 16, 15},
      {16, 16, 16},   {6, 16, 255},  {7, 17, 256},   {13, 33, 257},  {121, 40, 100},
      {119, 9, 513},  {240, 20, 30}, {3, 2049, 20},  {7, 2048, 9},   {9, 2100, 5},
      {8, 48, 300},   {25, 65, 64},  {15, 97, 1025}, {1, 512, 2048}, {2, 300, 700},
      {1000, 1, 300}, {1, 1, 5000},  {70, 30, 600},  {129, 49, 300}, {64, 47, 600},
  };
  std::vector<Case> cases;
  for (int t = 0; t < 4; ++t)
    for (const Dims& d : dims) {
      cases.push_back({bool(t & 1), bool(t & 2), d.m, d.n, d.k, 1.0, 0.0, 3, 5, 7});
      cases.push_back({bool(t & 1), bool(t & 2), d.m, d.n, d.k, 2.5, 1.0, 16, 1, 0});
    }
  expect_every_path(cases, 1000);
}

// Every alpha / beta kind, lean and packed.
TEST(GemmPaths, AlphaBeta) {
  std::vector<Case> cases;
  for (double alpha : {1.0, -1.0, 0.3})
    for (double beta : {0.0, 1.0, 0.5, -2.0})
      for (int t = 0; t < 4; ++t) {
        cases.push_back({bool(t & 1), bool(t & 2), 30, 70, 100, alpha, beta, 2, 3, 4});
        cases.push_back({bool(t & 1), bool(t & 2), 3, 20, 9, alpha, beta, 1, 0, 2});
      }
  expect_every_path(cases, 2000);
}

// Large enough to run on all threads, tall and wide, and the ResNet GEMM
// forms: forward, backward-data (trans_a), backward-filter (trans_b, long k).
TEST(GemmPaths, ThreadedShapes) {
  const std::vector<Case> cases = {
      {false, false, 512, 96, 300, 1.0, 0.0},  {false, false, 16, 3000, 200, 1.0, 0.0},
      {true, false, 576, 700, 64, 1.0, 0.0},   {false, true, 64, 576, 2000, 1.0, 1.0},
      {true, true, 300, 301, 302, -1.0, 0.25}, {false, false, 1000, 9, 500, 1.0, 0.0},
      {false, true, 3, 3000, 400, 1.0, 0.5},   {true, false, 2000, 2, 300, 1.0, 0.0},
  };
  expect_every_path(cases, 3000);
}

// No product: k == 0 or alpha == 0 gives C = beta * C, NaNs in C cleared by
// beta == 0, NaNs in A or B not propagated; m == 0 or n == 0 touch nothing.
TEST(GemmPaths, EmptyProduct) {
  const float nan = std::nanf("");
  for (Isa isa : paths_here()) {
    const ScopedIsa scope(isa);
    std::vector<float> c = {1.f, nan, 3.f, 4.f};
    dml::cpu::gemm<float>(false, false, 2, 2, 0, 1.f, nullptr, 1, nullptr, 2, 0.f, c.data(), 2);
    EXPECT_EQ(c, (std::vector<float>{0.f, 0.f, 0.f, 0.f}));
    c = {1.f, 2.f, 3.f, 4.f};
    dml::cpu::gemm<float>(true, true, 2, 2, 0, 1.f, nullptr, 1, nullptr, 2, 0.5f, c.data(), 2);
    EXPECT_EQ(c, (std::vector<float>{0.5f, 1.f, 1.5f, 2.f}));
    const std::vector<double> a(4, std::nan("")), b(4, 1.0);
    std::vector<double> cd = {1.0, 2.0, 3.0, 4.0};
    dml::cpu::gemm<double>(false, false, 2, 2, 2, 0.0, a.data(), 2, b.data(), 2, 2.0, cd.data(), 2);
    EXPECT_EQ(cd, (std::vector<double>{2.0, 4.0, 6.0, 8.0}));
    dml::cpu::gemm<float>(false, false, 0, 2, 3, 1.f, nullptr, 3, nullptr, 2, 0.f, nullptr, 2);
  }
}

// Each path agrees with the portable one within twice the bound (each is
// within one bound of the exact product), on products larger than the
// reference loop affords everywhere; the bound's |A| |B| comes from the
// portable path on absolute values.
template <class T>
void expect_agrees_with_portable(const Case& cs, uint32_t seed) {
  const Operands<T> o = make_operands<T>(cs, seed);
  Case abs_case = cs;
  abs_case.alpha = std::fabs(cs.alpha);
  abs_case.beta = std::fabs(cs.beta);
  Operands<T> abs_o = o;
  for (T& x : abs_o.a) x = std::fabs(x);
  for (T& x : abs_o.b) x = std::fabs(x);
  for (T& x : abs_o.c) x = std::fabs(x);
  std::vector<T> portable, mag;
  {
    const ScopedIsa scope(Isa::portable);
    portable = run_gemm(cs, o);
    mag = run_gemm(abs_case, abs_o);
  }
  for (Isa isa : paths_here()) {
    const ScopedIsa scope(isa);
    const std::vector<T> got = run_gemm(cs, o);
    int64_t bad = 0;
    for (int64_t i = 0; i < cs.m; ++i)
      for (int64_t j = 0; j < cs.n; ++j) {
        const size_t at = size_t(i * o.ldc + j);
        const double bound = 2.0 * double(cs.k + 2) * eps<T>() * 1.01 * double(mag[at]);
        if (!(std::fabs(double(got[at]) - double(portable[at])) <= bound) && bad++ < 5)
          ADD_FAILURE() << describe(cs) << ": C[" << i << "," << j << "] = " << got[at]
                        << ", portable " << portable[at];
      }
    EXPECT_EQ(bad, 0) << describe(cs);
  }
}

TEST(GemmPaths, AgreeWithPortable) {
  const Case cases[] = {
      {false, false, 257, 1025, 513, 1.0, 0.0}, {true, false, 513, 700, 129, 1.0, 0.5},
      {false, true, 128, 576, 4000, 1.0, 1.0},  {true, true, 333, 444, 555, 0.5, 0.0},
      {false, true, 1, 1000, 2048, 1.0, 0.0},
  };
  uint32_t seed = 5000;
  for (const Case& cs : cases) {
    expect_agrees_with_portable<float>(cs, seed);
    expect_agrees_with_portable<double>(cs, seed++);
  }
}

// bf16 operands (widened to f32, the f32 GEMM, rounded once): within the f32
// bound plus one bf16 rounding of the result, on every path.
TEST(GemmPaths, Bf16) {
  using dml::bf16;
  const Case cases[] = {
      {false, false, 3, 5, 7, 1.0, 0.0},
      {true, true, 40, 70, 90, 1.0, 0.5},
      {false, true, 64, 100, 300, 2.0, 0.0},
  };
  uint32_t seed = 7000;
  for (Isa isa : paths_here()) {
    const ScopedIsa scope(isa);
    for (const Case& cs : cases) {
      // Operands exactly representable in bf16, so the reference is exact.
      Operands<float> o = make_operands<float>(cs, seed++);
      for (std::vector<float>* v : {&o.a, &o.b, &o.c})
        for (float& x : *v) x = dml::to_float(dml::to_bf16(x));
      auto narrow = [](const std::vector<float>& v) {
        std::vector<bf16> out;
        for (float x : v) out.push_back(dml::to_bf16(x));
        return out;
      };
      const std::vector<bf16> a = narrow(o.a), b = narrow(o.b);
      std::vector<bf16> c = narrow(o.c);
      dml::cpu::gemm<bf16>(cs.ta, cs.tb, cs.m, cs.n, cs.k, float(cs.alpha), a.data(), o.lda,
                           b.data(), o.ldb, float(cs.beta), c.data(), o.ldc);
      const Reference r = reference(cs, o);
      int64_t bad = 0;
      for (int64_t i = 0; i < cs.m; ++i)
        for (int64_t j = 0; j < cs.n; ++j) {
          const double want = r.want[size_t(i * cs.n + j)], f32 = r.bound[size_t(i * cs.n + j)];
          const double bound = f32 + std::ldexp(std::fabs(want) + f32, -8);
          const double got = dml::to_float(c[size_t(i * o.ldc + j)]);
          if (!(std::fabs(got - want) <= bound) && bad++ < 5)
            ADD_FAILURE() << describe(cs) << ": C[" << i << "," << j << "] = " << got << ", want "
                          << want << " +- " << bound;
        }
      EXPECT_EQ(bad, 0) << describe(cs);
    }
  }
}

// Calls from inside a parallel region (each thread its own product) run on one
// thread each and do not share packing buffers.
TEST(GemmPaths, CalledFromParallelRegion) {
  const Case cs{false, true, 100, 150, 400, 1.0, 0.0};
  const int threads = 4;
  std::vector<Operands<float>> ops;
  std::vector<Reference> refs;
  for (int t = 0; t < threads; ++t) {
    ops.push_back(make_operands<float>(cs, 4000 + t));
    refs.push_back(reference(cs, ops.back()));
  }
  for (Isa isa : paths_here()) {
    const ScopedIsa scope(isa);
    std::vector<std::vector<float>> got(threads);
#pragma omp parallel for num_threads(threads)
    for (int t = 0; t < threads; ++t) got[size_t(t)] = run_gemm(cs, ops[size_t(t)]);
    for (int t = 0; t < threads; ++t)
      EXPECT_EQ(check_against_reference(cs, ops[size_t(t)], refs[size_t(t)], got[size_t(t)]), 0);
  }
}

// ---- the AVX-512 SGEMM itself, across its blocking -----------------------------

std::vector<float> run_avx512(const Case& cs, const Operands<float>& o) {
  std::vector<float> c = o.c;
  dml::cpu::sgemm_avx512(cs.ta, cs.tb, cs.m, cs.n, cs.k, float(cs.alpha), o.a.data(), o.lda,
                         o.b.data(), o.ldb, float(cs.beta), c.data(), o.ldc);
  return c;
}

void expect_avx512_matches_reference(const Case& cs, uint32_t seed) {
  const Operands<float> o = make_operands<float>(cs, seed);
  EXPECT_EQ(check_against_reference(cs, o, reference(cs, o), run_avx512(cs, o)), 0) << describe(cs);
}

#define SKIP_WITHOUT_AVX512()                                               \
  if (dml::cpu::cpu_isa() < Isa::avx512) GTEST_SKIP() << "no AVX-512 here"; \
  static_assert(true)

// Small products gemm() sends to the lean path, straight into the kernel.
TEST(SgemmAvx512, SmallAndPrimeSizes) {
  SKIP_WITHOUT_AVX512();
  const int64_t sizes[] = {1, 7, 13, 31, 33, 47, 65, 129, 257};
  uint32_t seed = 1;
  for (int t = 0; t < 4; ++t)
    for (int64_t m : sizes)
      for (int64_t n : sizes)
        for (int64_t k : sizes) {
          if (m * n * k > 500'000) continue;
          const bool odd = (m + n + k) % 2;
          Case cs{bool(t & 1), bool(t & 2), m, n, k, odd ? 1.0 : -0.75, odd ? 0.0 : 0.5};
          expect_avx512_matches_reference(cs, seed++);
        }
}

// Sizes on both sides of the kernel's blocking: its MR x NR tiles (8x48, 6x64,
// 14x32, 24x16; the k-contiguous path's 4x6), the k block (256; up to 1024 on
// the k-contiguous path, taken for !trans_a && trans_b with k >= 512), the A
// block (192 rows at k block 256) and the B block (4096 columns per thread).
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
      Case cs{bool(t & 1), bool(t & 2), d.m, d.n, d.k, 1.0, 0.0, 3, 5, 7};
      expect_avx512_matches_reference(cs, seed++);
      cs.alpha = 2.5;
      cs.beta = 1.0;
      cs.pad_a = 16;
      cs.pad_b = 1;
      cs.pad_c = 0;
      expect_avx512_matches_reference(cs, seed++);
    }
}

// Its thread grids (rows split: tall C; columns split: wide C) and B over
// 8 MiB (prefetched block by block).
TEST(SgemmAvx512, ThreadedShapes) {
  SKIP_WITHOUT_AVX512();
  const Case cases[] = {
      {false, false, 64, 2000, 576, 1.0, 0.0}, {false, true, 64, 147, 2000, 1.0, 0.5},
      {false, false, 9, 9000, 100, 1.0, 0.0},  {true, false, 27, 8500, 64, 1.0, 0.0},
      {false, false, 16, 4200, 600, 1.0, 0.5}, {true, false, 20, 4100, 700, 1.0, 0.0},
  };
  uint32_t seed = 3000;
  for (const Case& cs : cases) expect_avx512_matches_reference(cs, seed++);
}

// ---- the path itself --------------------------------------------------------------

TEST(Isa, NamesRoundTrip) {
  for (Isa isa : dml::cpu::kAllIsas) EXPECT_EQ(dml::cpu::parse_isa(dml::cpu::isa_name(isa)), isa);
  EXPECT_FALSE(dml::cpu::parse_isa("sse9").has_value());
  EXPECT_FALSE(dml::cpu::parse_isa("").has_value());
}

// A ScopedIsa sets the active path and its source, nests, and restores.
TEST(Isa, ScopedIsaNestsAndRestores) {
  const Isa before = dml::cpu::active_isa();
  const dml::cpu::IsaSource source = dml::cpu::active_isa_source();
  {
    const ScopedIsa outer(Isa::portable);
    EXPECT_EQ(dml::cpu::active_isa(), Isa::portable);
    EXPECT_EQ(dml::cpu::active_isa_source(), dml::cpu::IsaSource::scoped);
    {
      const ScopedIsa inner(dml::cpu::cpu_isa());
      EXPECT_EQ(dml::cpu::active_isa(), dml::cpu::cpu_isa());
    }
    EXPECT_EQ(dml::cpu::active_isa(), Isa::portable);
  }
  EXPECT_EQ(dml::cpu::active_isa(), before);
  EXPECT_EQ(dml::cpu::active_isa_source(), source);
}

// A path above the CPU's is refused, and the active one is unchanged.
TEST(Isa, ScopedIsaRefusesAPathTheCpuLacks) {
  if (dml::cpu::cpu_isa() == Isa::amx) GTEST_SKIP() << "this CPU runs every path";
  const Isa above = Isa(int(dml::cpu::cpu_isa()) + 1);
  EXPECT_THROW(ScopedIsa{above}, dml::Error);
  EXPECT_EQ(dml::cpu::active_isa(), dml::cpu::cpu_isa());
}

// Run by ctest with DML_ISA set (tests/kernels/CMakeLists.txt) and, in
// DML_TEST_EXPECT_ISA, the highest path it must allow ("best": DML_ISA is
// ignored); skipped elsewhere.
TEST(Isa, EnvironmentLimitsThePath) {
  const char* want = std::getenv("DML_TEST_EXPECT_ISA");
  if (!want) GTEST_SKIP() << "DML_TEST_EXPECT_ISA not set";
  const Isa best = dml::cpu::cpu_isa();
  const Isa limit = std::string(want) == "best" ? best : *dml::cpu::parse_isa(want);
  EXPECT_EQ(dml::cpu::active_isa(), limit < best ? limit : best);
  EXPECT_EQ(dml::cpu::active_isa_source(), dml::cpu::isa_from_environment()
                                               ? dml::cpu::IsaSource::environment
                                               : dml::cpu::IsaSource::cpu);
}

}  // namespace
