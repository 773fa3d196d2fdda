// The CUDA device layer, checked against the CPU. Skips where no GPU is
// present (on machines without a driver the runtime reports an error, which
// counts as "no GPU").
#include <gtest/gtest.h>

#include <cstring>

#include "engine/ops.h"

namespace dml {
namespace {

class Cuda : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  }
};

TEST_F(Cuda, RoundTripKeepsEveryByte) {
  for (DType t : {DType::f32, DType::f64, DType::i64, DType::u8}) {
    Tensor x = randn({257, 3}, DType::f64).to(t);
    Tensor back = x.to(Device::cuda(0)).to(Device::cpu());
    ASSERT_EQ(back.nbytes(), x.nbytes());
    EXPECT_EQ(std::memcmp(back.raw_data(), x.raw_data(), x.nbytes()), 0) << dtype_name(t);
  }
}

TEST_F(Cuda, CachingAllocatorReusesFreedBlocks) {
  CudaCachingAllocator& a = cuda_allocator(0);
  a.empty_cache();
  MemoryStats before = a.stats();
  { Tensor t = zeros({1024}, DType::f32, Device::cuda(0)); }
  MemoryStats mid = a.stats();
  EXPECT_EQ(mid.bytes_in_use, before.bytes_in_use);
  EXPECT_GT(mid.bytes_cached, 0u);
  { Tensor t = zeros({1000}, DType::f32, Device::cuda(0)); }  // same size class
  EXPECT_EQ(a.stats().bytes_cached, mid.bytes_cached);
  a.empty_cache();
  EXPECT_EQ(a.stats().bytes_cached, 0u);
}

TEST_F(Cuda, GradientCrossesDevices) {
  Tensor x = from_vector<float>({1, 2}, {2}).requires_grad_();
  Tensor on_gpu = x.to(Device::cuda(0));
  Tensor back = on_gpu.to(Device::cpu());
  sum(back * 3.0).backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{3, 3}));
}

TEST_F(Cuda, OpsOnMixedDevicesNameTheOpAndBothTensors) {
  Tensor a = zeros({2, 3}, DType::f32, Device::cuda(0));
  Tensor b = zeros({2, 3});
  try {
    add(a, b);
    FAIL() << "add of a CUDA and a CPU tensor must be refused";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("add"), std::string::npos) << what;
    EXPECT_NE(what.find("f32[2, 3] cuda:0"), std::string::npos) << what;
    EXPECT_NE(what.find("f32[2, 3] cpu"), std::string::npos) << what;
  }
}

TEST(CudaAbsent, ReportedAsNoDevice) {
  if (cuda_available()) GTEST_SKIP() << "a GPU is present";
  EXPECT_EQ(cuda_device_count(), 0);
  EXPECT_THROW(cuda_allocator(0), Error);
}

}  // namespace
}  // namespace dml
