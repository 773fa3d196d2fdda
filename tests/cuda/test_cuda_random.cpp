// Random fills and dropout on CUDA against the CPU backend. Both compute
// element i from Philox block offset + i with the same code
// (kernels/philox.h, whose normal transform uses only correctly rounded
// operations), so the bound here is bit equality, at generator offsets that
// are not a multiple of anything, for sizes that exceed one grid row.
// Skipped where no GPU is present.
#include <gtest/gtest.h>

#include <cstring>

#include "engine/ops.h"
#include "tests/support/cuda_parity.h"

namespace dml {
namespace {

using test::CudaParity;

const Device kGpu = Device::cuda(0);

// Same bytes, and where not, the first element that differs.
::testing::AssertionResult same_bits(const Tensor& got, const Tensor& want) {
  Tensor g = got.to(Device::cpu()), w = want.to(Device::cpu());
  if (g.dtype() != w.dtype() || g.shape() != w.shape())
    return ::testing::AssertionFailure() << describe(g) << " vs " << describe(w);
  const auto* a = static_cast<const unsigned char*>(g.raw_data());
  const auto* b = static_cast<const unsigned char*>(w.raw_data());
  if (std::memcmp(a, b, g.nbytes()) == 0) return ::testing::AssertionSuccess();
  const size_t size = dtype_size(g.dtype());
  size_t i = 0;
  while (std::memcmp(a + i * size, b + i * size, size) == 0) ++i;
  Tensor gf = g.reshape({-1}).to(DType::f64), wf = w.reshape({-1}).to(DType::f64);
  return ::testing::AssertionFailure()
         << "element " << i << " of " << describe(w) << " differs: " << gf.to_vector<double>()[i]
         << " vs " << wf.to_vector<double>()[i];
}

// Two generators in the same state, one per device.
struct Twins {
  Generator cpu, gpu;
  Twins(uint64_t seed, uint64_t offset) {
    cpu.set_state({seed, offset});
    gpu.set_state({seed, offset});
  }
  void expect_in_step() const {
    EXPECT_EQ(cpu.state().seed, gpu.state().seed);
    EXPECT_EQ(cpu.state().offset, gpu.state().offset);
  }
};

TEST_F(CudaParity, RandomFillsAreTheCpusBitForBit) {
  for (uint64_t offset : {uint64_t(0), uint64_t(7), uint64_t(1000003), uint64_t(1) << 33}) {
    SCOPED_TRACE(offset);
    Twins g(0x5eedULL + offset, offset);
    for (DType t : {DType::f32, DType::f64, DType::bf16}) {
      SCOPED_TRACE(dtype_name(t));
      EXPECT_TRUE(same_bits(rand({3, 1001}, t, &g.gpu, kGpu), rand({3, 1001}, t, &g.cpu)));
      EXPECT_TRUE(same_bits(randn({7, 333}, t, &g.gpu, kGpu), randn({7, 333}, t, &g.cpu)));
    }
    EXPECT_TRUE(same_bits(randint(-5, 12, {2049}, DType::i64, &g.gpu, kGpu),
                          randint(-5, 12, {2049}, DType::i64, &g.cpu)));
    EXPECT_TRUE(same_bits(randint(0, int64_t(1) << 40, {999}, DType::i64, &g.gpu, kGpu),
                          randint(0, int64_t(1) << 40, {999}, DType::i64, &g.cpu)));
    EXPECT_TRUE(same_bits(bernoulli({5, 77}, 0.3, DType::f32, &g.gpu, kGpu),
                          bernoulli({5, 77}, 0.3, DType::f32, &g.cpu)));
    g.expect_in_step();
  }
}

// Empty fills launch nothing and take no counters; one past a whole grid
// (65535 blocks of 256 threads) checks the grid-stride tail.
TEST_F(CudaParity, EmptyAndLargerThanOneGridFills) {
  Twins g(11, 5);
  EXPECT_EQ(rand({0, 3}, DType::f32, &g.gpu, kGpu).numel(), 0);
  EXPECT_EQ(g.gpu.state().offset, 5u);
  const int64_t n = int64_t(65535) * 256 + 1001;
  EXPECT_TRUE(same_bits(rand({n}, DType::f32, &g.gpu, kGpu), rand({n}, DType::f32, &g.cpu)));
  EXPECT_TRUE(same_bits(randn({n}, DType::f32, &g.gpu, kGpu), randn({n}, DType::f32, &g.cpu)));
  g.expect_in_step();
}

// Dropout on the GPU keeps exactly the CPU's elements for one generator
// state: the mask is one Bernoulli fill and the scaling two single
// multiplies, all exact alike. Its gradient is the same mask, scaled.
TEST_F(CudaParity, DropoutMaskIsTheCpus) {
  for (DType t : {DType::f32, DType::f64}) {
    SCOPED_TRACE(dtype_name(t));
    Generator init(3);
    Tensor x = randn({9, 131}, t, &init).requires_grad_();
    Tensor xg = x.detach().to(kGpu).requires_grad_();
    Twins g(42, 12345);
    Tensor want = dropout(x, 0.3, true, &g.cpu), got = dropout(xg, 0.3, true, &g.gpu);
    EXPECT_EQ(got.device(), kGpu);
    EXPECT_TRUE(same_bits(got, want));
    g.expect_in_step();
    Tensor upstream = randn(want.shape(), t, &init);
    want.backward(upstream);
    got.backward(upstream.to(kGpu));
    EXPECT_TRUE(same_bits(xg.grad(), x.grad()));
    // Not everything kept, not everything dropped.
    double kept = sum(ne(want, zeros_like(want)).to(DType::f64)).item();
    EXPECT_GT(kept, 0.6 * double(want.numel()));
    EXPECT_LT(kept, 0.8 * double(want.numel()));
  }
}

}  // namespace
}  // namespace dml
