// The bf16 GEMM on every instruction-set path (isa_paths.h): gemm_bf16_f32
// (C in f32) and gemm<bf16> (C rounded to bf16 once) against the exact
// double-precision product of the bf16 operands: every element within the
// f32-accumulation bound (gemm_reference.h), plus one bf16 rounding for a bf16
// C. Shapes cross the kernels' edges: m, n, k = 1 and odd (an odd k pads its
// last pair), the tiles, the k and A blocks, products large enough for
// threads split either way; all four transposes, padded leading dimensions
// (padding never written), beta 0 (C holds NaN, never read) and 1, alpha != 1.
// The avx512_bf16 and amx paths run the bf16 dot-product kernels
// (bf16gemm.h), the others the widening reference; amx is skipped by name on
// CPUs without it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "base/dtype.h"
#include "kernels/cpu/gemm.h"
#include "tests/kernels/gemm_reference.h"
#include "tests/kernels/isa_paths.h"

namespace {

using dml::bf16;
using namespace dml::test;

class Bf16Gemm : public IsaPathTest {};

std::vector<bf16> to_bf16(const std::vector<float>& v) {
  std::vector<bf16> out;
  out.reserve(v.size());
  for (float x : v) out.push_back(dml::to_bf16(x));
  return out;
}

// Operands whose A and B are exactly bf16 values (so the reference is the
// exact product of what the kernel reads); C stays f32.
Operands<float> bf16_operands(const Case& cs, uint32_t seed) {
  Operands<float> o = make_operands<float>(cs, seed);
  for (std::vector<float>* v : {&o.a, &o.b})
    for (float& x : *v) x = dml::to_float(dml::to_bf16(x));
  return o;
}

std::vector<Case> cases() {
  std::vector<Case> out;
  const int64_t sizes[] = {1, 15, 17, 33, 129};
  for (int t = 0; t < 4; ++t) {
    const bool ta = t & 1, tb = t & 2;
    for (int64_t m : sizes)
      for (int64_t n : sizes) {
        const int64_t k = sizes[(m + n + t) % 5];
        out.push_back({ta, tb, m, n, k, 1.0, 0.0});
      }
    out.push_back({ta, tb, 17, 33, 15, -1.5, 1.0, 3, 5, 7});    // padded, alpha, beta 1
    out.push_back({ta, tb, 33, 17, 129, 0.5, 1.0, 1, 0, 2});    // odd leading dimensions
    out.push_back({ta, tb, 200, 70, 1101, 1.0, 0.0, 0, 1, 0});  // two k blocks, odd k
    out.push_back({ta, tb, 300, 20, 70, 1.0, 1.0});             // threads split rows
    out.push_back({ta, tb, 7, 9, 5123, 1.0, 1.0});              // a bf16 C past kBf16CMaxK
    out.push_back({ta, tb, 20, 300, 64, 2.0, 0.0});             // threads split columns
  }
  return out;
}

TEST_P(Bf16Gemm, F32ResultWithinTheF32AccumulationBound) {
  uint32_t seed = 100;
  for (const Case& cs : cases()) {
    const Operands<float> o = bf16_operands(cs, seed++);
    const std::vector<bf16> a = to_bf16(o.a), b = to_bf16(o.b);
    std::vector<float> c = o.c;
    dml::cpu::gemm_bf16_f32(cs.ta, cs.tb, cs.m, cs.n, cs.k, float(cs.alpha), a.data(), o.lda,
                            b.data(), o.ldb, float(cs.beta), c.data(), o.ldc);
    const Mismatches bad = compare(cs, o, reference(cs, o), c);
    EXPECT_EQ(bad.count, 0) << bad.first;
  }
}

TEST_P(Bf16Gemm, Bf16ResultRoundedOnce) {
  uint32_t seed = 900;
  for (const Case& cs : cases()) {
    Operands<float> o = bf16_operands(cs, seed++);
    for (float& x : o.c) x = dml::to_float(dml::to_bf16(x));  // NaN and the sentinel too
    const std::vector<bf16> a = to_bf16(o.a), b = to_bf16(o.b);
    std::vector<bf16> c = to_bf16(o.c);
    dml::cpu::gemm<bf16>(cs.ta, cs.tb, cs.m, cs.n, cs.k, float(cs.alpha), a.data(), o.lda, b.data(),
                         o.ldb, float(cs.beta), c.data(), o.ldc);
    const Reference r = reference(cs, o);
    int64_t bad = 0;
    for (int64_t i = 0; i < cs.m; ++i)
      for (int64_t j = 0; j < o.ldc; ++j) {
        const uint16_t got = c[size_t(i * o.ldc + j)].bits;
        if (j >= cs.n) {
          if (got != dml::to_bf16(float(kSentinel)).bits && bad++ < 5)
            ADD_FAILURE() << describe(cs) << ": wrote padding";
          continue;
        }
        // The f32 bound, then one rounding to bf16 (half an ulp: 2^-9 relative).
        const double want = r.want[size_t(i * cs.n + j)], f32 = r.bound[size_t(i * cs.n + j)];
        const double bound = f32 + std::ldexp(std::fabs(want) + f32, -8);
        const double value = dml::to_float(bf16{got});
        if (!(std::fabs(value - want) <= bound) && bad++ < 5)
          ADD_FAILURE() << describe(cs) << ": C[" << i << "," << j << "] = " << value << ", want "
                        << want << " +- " << bound;
      }
    EXPECT_EQ(bad, 0) << describe(cs);
  }
}

// Products below f32's normal range: the dot-product instructions flush
// denormal results (and inputs) to zero, the widening path keeps them. Either
// way each element is within k * 2^-126 of the exact product; at normal
// scales (the tests above, and operands near 2^-40 here, whose products are
// near 2^-80) the paths agree within the usual bound.
TEST_P(Bf16Gemm, DenormalsOnlyAtTheBottomOfTheRange) {
  for (const double scale : {std::ldexp(1.0, -40), std::ldexp(1.0, -70)}) {
    const Case cs{false, false, 9, 40, 33, 1.0, 0.0};
    Operands<float> o = bf16_operands(cs, 77);
    for (std::vector<float>* v : {&o.a, &o.b})
      for (float& x : *v) x = dml::to_float(dml::to_bf16(float(x * scale)));
    const std::vector<bf16> a = to_bf16(o.a), b = to_bf16(o.b);
    std::vector<float> c = o.c;
    dml::cpu::gemm_bf16_f32(false, false, cs.m, cs.n, cs.k, 1.f, a.data(), o.lda, b.data(), o.ldb,
                            0.f, c.data(), o.ldc);
    const Reference r = reference(cs, o);
    const double floor = double(cs.k) * std::ldexp(1.0, -126);
    for (int64_t i = 0; i < cs.m; ++i)
      for (int64_t j = 0; j < cs.n; ++j) {
        const double want = r.want[size_t(i * cs.n + j)], bound = r.bound[size_t(i * cs.n + j)];
        const double err = std::fabs(double(c[size_t(i * o.ldc + j)]) - want);
        ASSERT_LE(err, scale < 1e-20 ? floor : bound)
            << "scale " << scale << " C[" << i << "," << j << "]";
      }
  }
}

DML_INSTANTIATE_ON_EVERY_ISA(Bf16Gemm);

}  // namespace
