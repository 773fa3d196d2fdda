// Host<->device copies through the pinned staging pool
// (kernels/cuda_runtime/pinned_staging.h): large copies in chunks, exact bytes both
// ways, a host source reusable as soon as the copy returns, and the pool's
// statistics. The GPU tests are skipped where no GPU is present; the
// statistics' bookkeeping, shared with the caching allocator, runs anywhere.
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <vector>

#include "kernels/cuda_runtime/device_memory.h"
#include "kernels/cuda_runtime/pinned_staging.h"
#include "kernels/cuda_runtime/pool_stats.h"
#include "tests/support/cuda_parity.h"

namespace dml {
namespace {

using test::CudaParity;

// What the caching allocator and the staging pool report: in use now and at
// most, cached, and blocks handed out.
TEST(PoolStats, CountBlocksInUseCachedAndPeak) {
  cuda::PoolStats s;
  s.handed_out(512, /*reused=*/false);
  s.handed_out(2048, /*reused=*/false);
  EXPECT_EQ(s.get().bytes_in_use, 2560u);
  EXPECT_EQ(s.get().bytes_cached, 0u);
  s.given_back(2048);
  EXPECT_EQ(s.get().bytes_in_use, 512u);
  EXPECT_EQ(s.get().bytes_cached, 2048u);
  EXPECT_EQ(s.get().peak_bytes_in_use, 2560u);
  s.handed_out(2048, /*reused=*/true);  // from the cache
  EXPECT_EQ(s.get().bytes_cached, 0u);
  EXPECT_EQ(s.get().bytes_in_use, 2560u);
  EXPECT_EQ(s.get().allocations, 3u);
  s.given_back(2048);
  s.given_back(512);
  s.reset_peak();
  EXPECT_EQ(s.get().peak_bytes_in_use, 0u);
  s.released(2048);  // empty_cache
  EXPECT_EQ(s.get().bytes_cached, 512u);
  s.released(512);
  EXPECT_EQ(s.get().bytes_cached, 0u);
  EXPECT_EQ(s.get().bytes_in_use, 0u);
}

// Sizes around the staging threshold and the chunk, with odd tails.
TEST_F(CudaParity, StagedCopiesKeepEveryByte) {
  const size_t sizes[] = {1,
                          896,
                          cuda::kStagingMinBytes - 1,
                          cuda::kStagingMinBytes,
                          cuda::kStagingChunkBytes + 3,
                          3 * cuda::kStagingChunkBytes + 12345};
  CudaCachingAllocator& alloc = cuda::caching_allocator(0);
  for (size_t bytes : sizes) {
    SCOPED_TRACE(bytes);
    std::vector<unsigned char> src(bytes), back(bytes, 0);
    for (size_t i = 0; i < bytes; ++i) src[i] = static_cast<unsigned char>(i * 131 + (i >> 12));
    void* dev = alloc.allocate(bytes);
    cuda::copy_host_to_device(dev, src.data(), bytes, 0);
    // The source may change as soon as the copy returns.
    std::fill(src.begin(), src.end(), 0);
    cuda::copy_device_to_host(back.data(), dev, bytes, 0);
    for (size_t i = 0; i < bytes; ++i)
      ASSERT_EQ(back[i], static_cast<unsigned char>(i * 131 + (i >> 12))) << "byte " << i;
    alloc.deallocate(dev, bytes);
  }
}

// Small uploads are staged too and return before their DMA runs: more of
// them than the pool's buffers, each from a host vector that changes right
// after, all arrive intact.
TEST_F(CudaParity, ManySmallUploadsKeepEveryByte) {
  const size_t bytes = 112 * sizeof(int64_t);  // a batch's labels
  const int copies = 3 * cuda::kStagingBuffers;
  CudaCachingAllocator& alloc = cuda::caching_allocator(0);
  std::vector<void*> blocks;
  std::vector<int64_t> src(112);
  for (int c = 0; c < copies; ++c) {
    for (size_t i = 0; i < src.size(); ++i) src[i] = int64_t(c) * 1000 + int64_t(i);
    blocks.push_back(alloc.allocate(bytes));
    cuda::copy_host_to_device(blocks.back(), src.data(), bytes, 0);
  }
  std::vector<int64_t> back(112);
  for (int c = 0; c < copies; ++c) {
    cuda::copy_device_to_host(back.data(), blocks[size_t(c)], bytes, 0);
    for (size_t i = 0; i < back.size(); ++i)
      ASSERT_EQ(back[i], int64_t(c) * 1000 + int64_t(i)) << "copy " << c << ", element " << i;
    alloc.deallocate(blocks[size_t(c)], bytes);
  }
}

// Tensors take the staged path too; many copies in a row reuse the buffers.
TEST_F(CudaParity, StagingBuffersAreCachedAndCounted) {
  Generator gen(1);
  Tensor x = randn({3, 1000003}, DType::f32, &gen);  // 12 MB: three chunks
  for (int i = 0; i < 4; ++i) {
    Tensor y = x.to(Device::cuda(0)).to(Device::cpu());
    ASSERT_EQ(std::memcmp(y.raw_data(), x.raw_data(), x.nbytes()), 0);
  }
  MemoryStats s = cuda::pinned_staging_stats(0);
  EXPECT_EQ(s.bytes_in_use, 0u);
  EXPECT_GE(s.peak_bytes_in_use, cuda::kStagingChunkBytes);
  EXPECT_GE(s.allocations, 4u * 6u);  // a buffer per chunk, each way
  // Idle buffers are all cached, and there are few of them.
  EXPECT_GE(s.bytes_cached, cuda::kStagingChunkBytes);
  EXPECT_LE(s.bytes_cached, cuda::kStagingBuffers * cuda::kStagingChunkBytes);
  EXPECT_EQ(s.bytes_cached % cuda::kStagingChunkBytes, 0u);
  cuda::empty_pinned_staging();
  EXPECT_EQ(cuda::pinned_staging_stats(0).bytes_cached, 0u);
}

}  // namespace
}  // namespace dml
