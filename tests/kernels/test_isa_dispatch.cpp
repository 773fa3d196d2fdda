// run_for_isa (kernels/cpu/isa_dispatch.h) runs the copy of the body compiled
// for the path it is given. The body computes a * b + c, and this file is
// built with -ffp-contract=fast: a copy with FMA (avx2, avx512) rounds once,
// the x86-64 baseline copy twice, so the result tells which copy ran.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/isa_dispatch.h"

namespace dml::cpu {
namespace {

DML_ISA_BODY void multiply_add(float* __restrict y, const float* __restrict a,
                               const float* __restrict b, const float* __restrict c, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i] + c[i];
}

// y = a * b + c on `isa` for n elements where a = b = 1 + 2^-12 and
// c = -(1 + 2^-11): a * b = 1 + 2^-11 + 2^-24 exactly, which rounds to
// 1 + 2^-11 in f32 (a tie, to even), so y is 0 rounded twice and 2^-24 fused.
std::vector<float> multiply_add_on(Isa isa, int64_t n) {
  const float a = 1 + std::ldexp(1.f, -12), c = -(1 + std::ldexp(1.f, -11));
  const std::vector<float> av(size_t(n), a), cv(size_t(n), c);
  std::vector<float> y(size_t(n), NAN);
  run_for_isa<multiply_add>(isa, y.data(), av.data(), av.data(), cv.data(), n);
  return y;
}

TEST(IsaDispatch, EachPathRunsItsOwnCopyOfTheBody) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "one path (portable) off x86-64";
#endif
  for (Isa isa : dml::cpu::kAllIsas) {
    if (isa > cpu_isa()) continue;
    SCOPED_TRACE(isa_name(isa));
    const float want = isa == Isa::portable ? 0.f : std::ldexp(1.f, -24);
    // Lengths with and without a vector tail, and none at all.
    for (int64_t n : {0, 1, 7, 16, 37, 67}) {
      const std::vector<float> y = multiply_add_on(isa, n);
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(y[size_t(i)], want) << "n " << n << ", element " << i;
    }
  }
}

}  // namespace
}  // namespace dml::cpu
