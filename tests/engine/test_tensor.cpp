#include <gtest/gtest.h>
#include <omp.h>

#include <sstream>

#include "engine/ops.h"

namespace dml {
namespace {

TEST(Tensor, CreationFillsValues) {
  EXPECT_EQ(zeros({2, 3}).to_vector<float>(), std::vector<float>(6, 0.f));
  EXPECT_EQ(ones({4}, DType::f64).to_vector<double>(), std::vector<double>(4, 1.0));
  EXPECT_EQ(full({2}, 2.5).to_vector<float>(), (std::vector<float>{2.5f, 2.5f}));
  EXPECT_EQ(arange(5).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(arange(1.0, 2.0, 0.25, DType::f64).to_vector<double>(),
            (std::vector<double>{1.0, 1.25, 1.5, 1.75}));
  Tensor t = from_vector<int32_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.dtype(), DType::i32);
  EXPECT_EQ(t.size(-1), 3);
  EXPECT_THROW(from_vector<float>({1, 2, 3}, {2, 2}), Error);
  EXPECT_THROW(zeros({2, -1}), Error);
}

TEST(Tensor, CpuMemoryIs64ByteAligned) {
  for (int64_t n : {1, 3, 17, 1000}) {
    Tensor t = Tensor::empty({n});
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u);
  }
}

TEST(Tensor, ViewsShareStorage) {
  Tensor t = arange(0.0, 12.0, 1.0, DType::f32).reshape({4, 3});
  Tensor v = t.reshape({2, -1});
  EXPECT_EQ(v.shape(), (Shape{2, 6}));
  Tensor rows = t.slice(1, 3);
  EXPECT_EQ(rows.shape(), (Shape{2, 3}));
  EXPECT_EQ(rows.to_vector<float>(), (std::vector<float>{3, 4, 5, 6, 7, 8}));
  rows.data<float>()[0] = 42;
  EXPECT_EQ(t.data<float>()[3], 42);
  EXPECT_EQ(t.slice(4, 4).numel(), 0);
  EXPECT_THROW(t.slice(2, 5), Error);
  EXPECT_THROW(t.reshape({5, -1}), Error);
  EXPECT_EQ(t.unsqueeze(0).shape(), (Shape{1, 4, 3}));
  EXPECT_EQ(t.unsqueeze(-1).squeeze(2).shape(), (Shape{4, 3}));
  EXPECT_EQ(t.flatten().shape(), (Shape{12}));
}

TEST(Tensor, DtypeConversions) {
  Tensor x = from_vector<float>({1.0f, -2.5f, 0.1f, 65520.f, 1e-8f}, {5});
  auto bf = x.to(DType::bf16);
  EXPECT_EQ(bf.data<bf16>()[0].bits, 0x3f80);
  EXPECT_EQ(bf.to(DType::f32).to_vector<float>()[1], -2.5f);
  auto h = x.to(DType::f16);
  EXPECT_EQ(h.data<f16>()[0].bits, 0x3c00);
  EXPECT_EQ(h.data<f16>()[3].bits, 0x7c00);  // 65520 rounds to infinity in f16
  EXPECT_NEAR(h.to(DType::f32).to_vector<float>()[2], 0.1f, 1e-4);
  EXPECT_NEAR(h.to(DType::f32).to_vector<float>()[4], 0.0f, 6e-8);  // subnormal range
  // Round to nearest even: 1 + 2^-8 lies halfway between two bf16 values.
  EXPECT_EQ(to_bf16(1.0f + 1.0f / 256).bits, 0x3f80);
  EXPECT_EQ(to_bf16(1.0f + 3.0f / 256).bits, 0x3f82);
  EXPECT_EQ(from_vector<double>({2.7, -1.2}, {2}).to(DType::i64).to_vector<int64_t>(),
            (std::vector<int64_t>{2, -1}));
  EXPECT_EQ(from_vector<uint8_t>({255}, {1}).to(DType::f32).item(), 255.0);
}

TEST(Tensor, ItemAndPrinting) {
  EXPECT_EQ(full({}, 3.0).item(), 3.0);
  EXPECT_THROW(zeros({2}).item(), Error);
  std::ostringstream os;
  os << arange(20, DType::f32).reshape({4, 5});
  EXPECT_NE(os.str().find("f32[4, 5] cpu"), std::string::npos);
  EXPECT_NE(os.str().find("..."), std::string::npos);
}

TEST(Random, SeededAndIndependentOfThreads) {
  Generator a(5), b(5);
  omp_set_num_threads(1);
  Tensor x = randn({100000}, DType::f32, &a);
  omp_set_num_threads(2);
  Tensor y = randn({100000}, DType::f32, &b);
  EXPECT_EQ(x.to_vector<float>(), y.to_vector<float>());
  // Draws advance the generator: the next tensor differs.
  EXPECT_NE(randn({4}, DType::f32, &a).to_vector<float>(), x.slice(0, 4).to_vector<float>());
  GeneratorState s = a.state();
  Tensor r1 = rand({8}, DType::f64, &a);
  a.set_state(s);
  EXPECT_EQ(rand({8}, DType::f64, &a).to_vector<double>(), r1.to_vector<double>());
}

TEST(Random, Distributions) {
  Generator g(11);
  Tensor n = randn({200000}, DType::f64, &g);
  EXPECT_NEAR(mean(n).item(), 0.0, 0.01);
  EXPECT_NEAR(var(n).item(), 1.0, 0.02);
  Tensor u = rand({200000}, DType::f32, &g);
  EXPECT_NEAR(mean(u).item(), 0.5, 0.01);
  EXPECT_GE(amin(u).item(), 0.0);
  EXPECT_LT(amax(u).item(), 1.0);
  Tensor i = randint(-3, 4, {10000}, DType::i64, &g);
  auto v = i.to_vector<int64_t>();
  EXPECT_EQ(*std::min_element(v.begin(), v.end()), -3);
  EXPECT_EQ(*std::max_element(v.begin(), v.end()), 3);
  EXPECT_NEAR(mean(bernoulli({100000}, 0.3, DType::f32, &g)).item(), 0.3, 0.01);
}

TEST(Device, ParsingAndAbsentGpu) {
  EXPECT_EQ(parse_device("cpu"), Device::cpu());
  EXPECT_EQ(parse_device("cuda:1"), Device::cuda(1));
  EXPECT_THROW(parse_device("gpu"), Error);
  EXPECT_THROW(parse_device("cuda:x"), Error);
  if (!cuda_available()) {
    try {
      zeros({2}).to(Device::cuda(0));
      FAIL() << "moving to a missing GPU must throw";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("cuda:0"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace dml

namespace dml {
namespace {
TEST(Allocator, CpuStatisticsTrackUseAndPeak) {
  reset_cpu_peak();
  MemoryStats before = cpu_memory_stats();
  {
    Tensor t = Tensor::empty({1000}, DType::f64);
    EXPECT_EQ(cpu_memory_stats().bytes_in_use, before.bytes_in_use + 8000);
  }
  EXPECT_EQ(cpu_memory_stats().bytes_in_use, before.bytes_in_use);
  EXPECT_GE(cpu_memory_stats().peak_bytes_in_use, before.bytes_in_use + 8000);
}

TEST(Allocator, LargeBlocksAreReusedForTheSameSize) {
  empty_cpu_cache();
  void* first = nullptr;
  {
    Tensor big = Tensor::empty({1 << 20});  // 4 MiB
    first = big.raw_data();
  }
  EXPECT_EQ(cpu_memory_stats().bytes_cached, size_t(4) << 20);
  Tensor again = Tensor::empty({1 << 20});
  EXPECT_EQ(again.raw_data(), first);
  EXPECT_EQ(cpu_memory_stats().bytes_cached, 0u);
  empty_cpu_cache();
}
}  // namespace
}  // namespace dml
