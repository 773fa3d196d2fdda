// parallel_for_isa (kernels/cpu/parallel_isa.h), the dispatch of every
// kernel in test_kernel_paths, runs the active path's copy of its body in
// every chunk and on every thread. Told apart as test_isa_dispatch.cpp
// tells run_for_isa's copies apart: a * b + c fused (avx2 and up) or rounded
// twice (portable), hence this file's -ffp-contract=fast.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/parallel_isa.h"
#include "tests/kernels/isa_paths.h"

namespace dml::cpu {
namespace {

DML_ISA_BODY void multiply_add(int64_t begin, int64_t end, float* y, const float* a,
                               const float* c) {
  for (int64_t i = begin; i < end; ++i) y[i] = a[i] * a[i] + c[i];
}

class ParallelIsa : public test::IsaPathTest {};

TEST_P(ParallelIsa, EveryChunkRunsTheActivePathsCopy) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "one path (portable) off x86-64";
#endif
  // a * a = 1 + 2^-11 + 2^-24 exactly, a tie that rounds to 1 + 2^-11.
  const float a = 1 + std::ldexp(1.f, -12), c = -(1 + std::ldexp(1.f, -11));
  const float want = isa() == Isa::portable ? 0.f : std::ldexp(1.f, -24);
  // One chunk with a tail, and enough chunks for several threads.
  for (int64_t n : {int64_t(0), int64_t(37), 9 * kIsaChunk + 5}) {
    const std::vector<float> av(size_t(n), a), cv(size_t(n), c);
    std::vector<float> y(size_t(n), NAN);
    parallel_for_isa<multiply_add>(n, y.data(), av.data(), cv.data());
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[size_t(i)], want) << "n " << n << ", element " << i;
  }
}

DML_INSTANTIATE_ON_EVERY_ISA(ParallelIsa);

}  // namespace
}  // namespace dml::cpu
