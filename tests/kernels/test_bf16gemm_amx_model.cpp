// The AMX bf16 GEMM's packing, tile addressing and edges on a software model
// of its tile instructions (amx_tile_model.h), on any CPU with AVX512-BF16
// (its packing code): against the exact product of the bf16 operands within
// the f32-accumulation bound, as test_bf16gemm checks the real paths. Odd
// m, n, k around the 16 x 32 tiles and 32 x 32 blocks, transposes, padded
// leading dimensions, beta 0 (C holds NaN) and 1, alpha != 1, several column
// blocks on threads; C in f32 and in bf16 (rounded once).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "base/dtype.h"
#include "kernels/cpu/isa.h"
#include "tests/kernels/amx_tile_model.h"
#include "tests/kernels/gemm_reference.h"

namespace {

using namespace dml::test;

// The bf16 copy of v, with v rounded to it (the reference's operands).
std::vector<dml::bf16> round_to_bf16(std::vector<float>& v) {
  std::vector<dml::bf16> out;
  for (float& x : v) {
    out.push_back(dml::to_bf16(x));
    x = dml::to_float(out.back());
  }
  return out;
}

TEST(Bf16GemmAmxModel, WithinTheF32AccumulationBound) {
  if (dml::cpu::cpu_isa() < dml::cpu::Isa::avx512_bf16)
    GTEST_SKIP() << "the model runs the kernel's AVX512-BF16 packing; this CPU's best path is "
                 << dml::cpu::isa_name(dml::cpu::cpu_isa());
  uint32_t seed = 300;
  for (int t = 0; t < 4; ++t)
    for (int64_t m : {1, 15, 17, 33, 70})
      for (int64_t n : {1, 17, 33, 64})
        for (int64_t k : {1, 31, 33, 130}) {
          const Case cs{bool(t & 1), bool(t & 2), m, n, k, 1.5, double(seed % 2), 3, 1, 2};
          Operands<float> o = make_operands<float>(cs, seed++);
          const std::vector<dml::bf16> a = round_to_bf16(o.a), b = round_to_bf16(o.b);
          std::vector<float> c = o.c;
          bf16gemm_amx_on_tile_model(cs.ta, cs.tb, m, n, k, float(cs.alpha), a.data(), o.lda,
                                     b.data(), o.ldb, float(cs.beta), c.data(), o.ldc);
          const Reference r = reference(cs, o);
          const Mismatches bad = compare(cs, o, r, c);
          EXPECT_EQ(bad.count, 0) << bad.first;

          // C in bf16: the same bound, then one rounding (2^-8 relative).
          std::vector<dml::bf16> cb = round_to_bf16(o.c);
          const Reference rb = reference(cs, o);
          bf16gemm_amx_on_tile_model(cs.ta, cs.tb, m, n, k, float(cs.alpha), a.data(), o.lda,
                                     b.data(), o.ldb, float(cs.beta), cb.data(), o.ldc);
          int64_t bad_bf16 = 0;
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
              const double want = rb.want[size_t(i * n + j)], f32 = rb.bound[size_t(i * n + j)];
              const double got = dml::to_float(cb[size_t(i * o.ldc + j)]);
              bad_bf16 += !(std::fabs(got - want) <= f32 + std::ldexp(std::fabs(want) + f32, -8));
            }
          EXPECT_EQ(bad_bf16, 0) << describe(cs) << " (bf16 C)";
        }
}

}  // namespace
