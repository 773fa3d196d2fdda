#include "kernels/cuda/conv_bias.h"
#include "kernels/cuda/grid.cuh"

namespace dml::cuda {

namespace {

__global__ void fill_channels_kernel(const bf16* bias, bf16* y, int64_t total, int64_t o,
                                     int64_t plane) {
  DML_GRID_STRIDE_LOOP(e, total) y[e] = bias[(e / plane) % o];
}

// One block per channel: its threads stride over the channel's n * plane
// elements (consecutive threads read consecutive elements of a plane), each
// summing in f32; then a tree sum over the block in shared memory. A ResNet
// convolution has no bias, so this is not tuned for wide grids.
constexpr int kSumThreads = 256;

__global__ void channel_sums_kernel(const bf16* dy, bf16* db, int64_t n, int64_t o, int64_t plane) {
  const int64_t c = blockIdx.x, count = n * plane;
  float acc = 0.f;
  for (int64_t e = threadIdx.x; e < count; e += kSumThreads)
    acc += to_float(dy[((e / plane) * o + c) * plane + e % plane]);
  float sum[1] = {acc};
  grid::block_sum<kSumThreads>(sum);
  if (threadIdx.x == 0) db[c] = to_bf16(sum[0]);
}

}  // namespace

void fill_channels(const bf16* bias, bf16* y, int64_t n, int64_t o, int64_t plane, int device) {
  if (o == 0 || plane == 0) return;  // nothing to fill (and no division by zero)
  grid::launch(fill_channels_kernel, n * o * plane, device, bias, y, n * o * plane, o, plane);
}

void channel_sums(const bf16* dy, bf16* db, int64_t n, int64_t o, int64_t plane, int device) {
  if (o == 0) return;
  DML_CHECK(n * plane > 0, "cuda::channel_sums: no elements to sum (n = ", n, ", plane = ", plane,
            "); the caller zeroes the gradient of an empty batch");
  DML_CHECK(o <= INT32_MAX, "cuda::channel_sums: ", o, " channels exceed the grid limit");
  cudaStream_t s = use_device(device);
  channel_sums_kernel<<<unsigned(o), kSumThreads, 0, s>>>(dy, db, n, o, plane);
  DML_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dml::cuda
