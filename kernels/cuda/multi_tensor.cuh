#pragma once
// Multi-tensor launches (the scheme of apex's and PyTorch's
// multi_tensor_apply): one kernel walks a list of tensors, each block one
// contiguous chunk of one tensor, so an optimizer step over a whole model is
// a handful of launches instead of one per parameter. How the list is cut
// into launches, and why it travels as a kernel parameter, is
// kernels/cuda/multi_tensor_plan.h. Included by .cu files only.
#include <cstdint>
#include <vector>

#include "kernels/cuda/multi_tensor_plan.h"
#include "kernels/cuda_runtime/check.h"
#include "kernels/cuda_runtime/stream.h"

namespace dml::cuda::multi_tensor {

constexpr int kThreads = 512;

// Calls element(p, i) for each element i of the block's chunk, where
// element = op.load() (what the op reads from device memory once per thread:
// an optimizer's coefficients) and p holds the K buffers of the block's
// tensor. With skip_if set (a device flag), the whole launch returns before
// touching memory when the flag is nonzero.
// __grid_constant__: the table is read in place in the parameter space
// (indexed by the block's tensor), never copied to local memory.
template <class T, int K, class Op>
__global__ void __launch_bounds__(kThreads)
    apply_kernel(const __grid_constant__ Table<T, K> table, const Op op, const float* skip_if) {
  if (skip_if != nullptr && *skip_if != 0.f) return;
  const int t = table.block_tensor[blockIdx.x];
  const int64_t begin = int64_t(table.block_chunk[blockIdx.x]) * kChunk;
  const int64_t end = table.n[t] < begin + kChunk ? table.n[t] : begin + kChunk;
  T* p[K];
  for (int k = 0; k < K; ++k) p[k] = table.ptr[k][t];
  const auto element = op.load();
  for (int64_t i = begin + threadIdx.x; i < end; i += kThreads) element(p, i);
}

// Queues op over every element of `list` on the device's stream: as few
// launches as the table allows, none for an empty list or empty tensors.
template <class T, int K, class Op>
void apply(const std::vector<Entry<T, K>>& list, const Op& op, const float* skip_if, int device) {
  static_assert(sizeof(Table<T, K>) + sizeof(Op) + sizeof(const float*) <= 4096 - 256,
                "multi-tensor kernel parameters must stay under the 4 KiB limit");
  cudaStream_t stream = nullptr;
  plan(list, [&](const Table<T, K>& table, int blocks) {
    if (stream == nullptr) stream = use_device(device);
    apply_kernel<T, K, Op><<<blocks, kThreads, 0, stream>>>(table, op, skip_if);
    DML_CUDA_CHECK(cudaGetLastError());
  });
}

}  // namespace dml::cuda::multi_tensor
