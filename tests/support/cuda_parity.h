#pragma once
// Parity harness for CUDA ops: the CPU backend is the reference. An op runs on
// the same seeded inputs on both devices (the op-case table's make_inputs,
// tests/support/op_cases.h, copied to the GPU); its output, and then the gradient of
// every differentiable input for one random upstream gradient, must agree
// within stated bounds. While a CudaParity test runs, every CUDA allocation
// is filled with NaN first (set_poison_allocations), so an output element a
// kernel never writes fails the comparison instead of passing with whatever
// the memory held.
//
//   TEST_F(CudaParity, Matmul) {
//     expect_cuda_parity({"matmul", {N({7, 33}), N({33, 5})},
//                         [](const Inputs& x) { return matmul(x[0], x[1]); }},
//                        DType::f32, kF32Gemm, kF32Gemm);
//   }
//
// Any entry of op_cases() runs the same way. Only CUDA builds compile this
// header (it reaches into kernels/cuda/); link dml_op_cases.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "engine/ops.h"
#include "kernels/cuda_runtime/device_memory.h"
#include "tests/support/op_cases.h"

namespace dml::test {

// Skips the calling test where no CUDA device is present (on machines without
// a driver the runtime reports an error, which counts as none). Called from
// SetUp, GTest then skips the test body; called from a test body, follow it
// with `if (IsSkipped()) return;`.
inline void skip_without_gpu() {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device";
}

// Elementwise bound |cuda - cpu| <= abs + rel * |cpu|; NaN never passes.
struct Tolerance {
  double abs, rel;
};

using Inputs = std::vector<Tensor>;

// Equal values on both devices, as leaves; an input takes a gradient on the
// GPU exactly when it does on the CPU.
// The largest magnitude of a tensor's elements (0 when empty): the scale of
// bounds on results that round once from sums in another order.
inline double max_abs(const Tensor& t) {
  return t.numel() ? amax(abs(t.detach().to(DType::f32))).item() : 0.0;
}

struct ParityInputs {
  Inputs cpu, cuda;
};

// Copies of given CPU leaves on cuda:0, taking a gradient where they do.
inline ParityInputs to_parity_inputs(Inputs cpu_inputs) {
  ParityInputs in;
  in.cpu = std::move(cpu_inputs);
  for (const Tensor& t : in.cpu) {
    Tensor copy = t.detach().to(Device::cuda(0));
    if (t.requires_grad()) copy.requires_grad_();
    in.cuda.push_back(copy);
  }
  return in;
}

inline ParityInputs make_parity_inputs(const OpCase& c, DType dtype, uint64_t seed) {
  return to_parity_inputs(make_inputs(c, dtype, seed));
}

// Compares two CPU tensors of one shape in f64; a failure names how many
// elements are out of bounds and the worst of them.
inline ::testing::AssertionResult all_close(const Tensor& got, const Tensor& want, Tolerance tol) {
  if (got.shape() != want.shape())
    return ::testing::AssertionFailure()
           << "shapes differ: " << describe(got) << " vs " << describe(want);
  std::vector<double> g = got.detach().to(DType::f64).to_vector<double>();
  std::vector<double> w = want.detach().to(DType::f64).to_vector<double>();
  size_t bad = 0, worst = 0;
  double worst_excess = -1;
  for (size_t i = 0; i < g.size(); ++i) {
    double bound = tol.abs + tol.rel * std::abs(w[i]), err = std::abs(g[i] - w[i]);
    if (err <= bound) continue;  // false for NaN
    ++bad;
    double excess = std::isnan(err) ? std::numeric_limits<double>::infinity() : err / bound;
    if (excess > worst_excess) {
      worst_excess = excess;
      worst = i;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << bad << " of " << g.size() << " elements of " << describe(want) << " out of bounds (abs "
         << tol.abs << ", rel " << tol.rel << "); worst: element " << worst << " is " << g[worst]
         << ", reference " << w[worst];
}

// A CUDA result against its CPU reference: on cuda:0, same dtype, close.
inline void expect_matches_cpu(const Tensor& cuda_t, const Tensor& cpu_t, Tolerance tol,
                               const std::string& what) {
  ASSERT_TRUE(cpu_t.defined()) << what << ": no CPU result";
  ASSERT_TRUE(cuda_t.defined()) << what << ": no CUDA result";
  EXPECT_EQ(cuda_t.device(), Device::cuda(0)) << what << " is " << describe(cuda_t);
  EXPECT_EQ(cuda_t.dtype(), cpu_t.dtype()) << what;
  EXPECT_TRUE(all_close(cuda_t.to(Device::cpu()), cpu_t, tol)) << what;
}

// Runs fn on both devices' copies of the inputs and compares the output
// (forward bounds); then, when an input takes a gradient and backward bounds
// are given, seeds both with one random upstream gradient and compares every
// input gradient.
inline void expect_cuda_parity_on(const ParityInputs& in,
                                  const std::function<Tensor(const Inputs&)>& fn, Tolerance forward,
                                  std::optional<Tolerance> backward, uint64_t seed = 1) {
  Tensor want = fn(in.cpu), got = fn(in.cuda);
  expect_matches_cpu(got, want, forward, "output");
  if (!backward || !want.requires_grad()) return;
  Generator gen(seed + 1);
  Tensor upstream = randn(want.shape(), want.dtype(), &gen);
  want.backward(upstream);
  got.backward(upstream.to(Device::cuda(0)));
  for (size_t i = 0; i < in.cpu.size(); ++i) {
    if (!in.cpu[i].requires_grad()) continue;
    expect_matches_cpu(in.cuda[i].grad(), in.cpu[i].grad(), *backward,
                       detail::concat("gradient of input ", i, " ", shape_str(in.cpu[i].shape())));
  }
}

// An op case on its seeded inputs in the given dtype.
inline void expect_cuda_parity(const OpCase& c, DType dtype, Tolerance forward,
                               std::optional<Tolerance> backward, uint64_t seed = 1) {
  SCOPED_TRACE(detail::concat(c.name, " in ", dtype_name(dtype)));
  expect_cuda_parity_on(make_parity_inputs(c, dtype, seed), c.fn, forward, backward, seed);
}

// One bound per float dtype.
struct FloatBounds {
  Tolerance f32, f64;
};

// Both devices give the same bits (copies, selections, exact arithmetic).
constexpr FloatBounds kExact{{0, 0}, {0, 0}};

// The family tests' walk over the op table: check(c) checks a case of its
// family and returns true, or returns false for a case of another family.
// Returns how many it checked, for the caller to compare with the count it
// expects, so a renamed or dropped case fails the test instead of passing it
// unchecked.
template <class Check>
int check_family(const std::vector<OpCase>& cases, Check check) {
  int checked = 0;
  for (const OpCase& c : cases)
    if (check(c)) ++checked;
  return checked;
}

// The case in f32 and f64, backward too where `backward` is given.
inline void expect_cuda_parity_f32_f64(const OpCase& c, const FloatBounds& forward,
                                       std::optional<FloatBounds> backward) {
  expect_cuda_parity(c, DType::f32, forward.f32,
                     backward ? std::optional<Tolerance>(backward->f32) : std::nullopt);
  expect_cuda_parity(c, DType::f64, forward.f64,
                     backward ? std::optional<Tolerance>(backward->f64) : std::nullopt);
}

// The fixture: skips without a GPU, poisons allocations while a test runs.
class CudaParity : public ::testing::Test {
 protected:
  void SetUp() override {
    skip_without_gpu();
    if (IsSkipped()) return;
    cuda::set_poison_allocations(true);
  }
  void TearDown() override { cuda::set_poison_allocations(false); }
};

}  // namespace dml::test
