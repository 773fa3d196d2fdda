// Every entry of the op table (tests/support/op_cases.h: op_cases with their
// gradients, value_cases forward only) on CUDA against the CPU, in f32 and
// f64: the whole engine's ops, as the PyTorch parity tests use them. Every
// op has a CUDA kernel: each case must run and match. Skipped where no GPU
// is present.
//
// Bounds: the table's inputs are tiny (at most 5 terms per sum or product,
// values up to ~10 after logsumexp's 5x), so the two backends differ only by
// the last ulps of a short chain of operations: exp, log, pow and tanh in
// CUDA's libdevice and glibc differ by up to 2 ulp, sums of 5 terms by 5 ulp
// of their magnitude, and a backward rule chains a handful of these. 1e-5
// absolute + 1e-5 relative in f32 (u = 6e-8: ~150 ulp of room) and 1e-12 +
// 1e-12 in f64. A kernel that reads a wrong element or skips one is off by
// O(1), or NaN from the poisoned allocation.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/ops.h"
#include "tests/support/cuda_parity.h"

namespace dml {
namespace {

using test::CudaParity;
using test::OpCase;

constexpr test::FloatBounds kTable{{1e-5, 1e-5}, {1e-12, 1e-12}};

// Runs one case in one dtype; returns the error message if it threw.
std::string run_case(const OpCase& c, DType dtype, bool with_backward) {
  try {
    test::expect_cuda_parity(c, dtype, dtype == DType::f32 ? kTable.f32 : kTable.f64,
                             with_backward ? std::optional<test::Tolerance>(
                                                 dtype == DType::f32 ? kTable.f32 : kTable.f64)
                                           : std::nullopt);
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

void run_table(const std::vector<OpCase>& cases, bool with_backward) {
  for (const OpCase& c : cases)
    for (DType dtype : {DType::f32, DType::f64}) {
      SCOPED_TRACE(detail::concat(c.name, " in ", dtype_name(dtype)));
      EXPECT_EQ(run_case(c, dtype, with_backward), "") << c.name << " threw on CUDA";
    }
}

TEST_F(CudaParity, EveryOpCaseForwardAndBackward) {
  run_table(test::op_cases(), true);
}

TEST_F(CudaParity, EveryValueCase) {
  run_table(test::value_cases(), false);
}

}  // namespace
}  // namespace dml
