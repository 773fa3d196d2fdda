#pragma once
// Multi-tensor launches (the scheme of apex's and PyTorch's
// multi_tensor_apply): one kernel walks a list of tensors, each block one
// contiguous chunk of one tensor, so an optimizer step over a whole model is
// a handful of launches instead of one per parameter. Included by .cu files
// only.
//
// The list travels as a kernel parameter: a table of K pointers and an
// element count per tensor, plus a block -> (tensor, chunk) map. That needs
// no device memory, no host-to-device copy (which would have to wait for or
// stage through pinned memory) and no synchronisation, and a launch with its
// parameters is what a CUDA graph records. The table is kept under the
// classic 4 KiB kernel-parameter limit (static_assert below); a longer list
// is split over several launches, a tensor that does not fit whole
// continuing in the next one.
#include <array>
#include <climits>
#include <cstdint>
#include <vector>

#include "engine/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/stream.h"

namespace dml::cuda::multi_tensor {

constexpr int kThreads = 512;
// Elements one block walks: 128 per thread, enough that a block's start-up
// is small beside its memory traffic.
constexpr int64_t kChunk = 65536;
constexpr int kMaxBlocks = 320;

// Tensors per launch for K pointers each (apex's choice): the table fills
// about 3 KiB whatever K is.
constexpr int max_tensors(int k) {
  return k == 1 ? 110 : k == 2 ? 64 : k == 3 ? 48 : 36;
}

template <class T, int K>
struct Table {
  static constexpr int kMaxTensors = max_tensors(K);
  T* ptr[K][kMaxTensors];  // ptr[k][t]: buffer k of tensor t
  int64_t n[kMaxTensors];
  int32_t block_chunk[kMaxBlocks];   // block b walks chunk block_chunk[b] ...
  uint8_t block_tensor[kMaxBlocks];  // ... of tensor block_tensor[b]
};

// One tensor of the list: K buffers of n elements.
template <class T, int K>
struct Entry {
  std::array<T*, K> ptr;
  int64_t n;
};

// Calls op(p, i) for each element i of each chunk: p holds the K buffers of
// the block's tensor. With skip_if set (a device flag), the whole launch
// returns before touching memory when the flag is nonzero.
template <class T, int K, class Op>
__global__ void __launch_bounds__(kThreads)
    apply_kernel(const __grid_constant__ Table<T, K> table, const Op op, const float* skip_if) {
  if (skip_if != nullptr && *skip_if != 0.f) return;
  const int t = table.block_tensor[blockIdx.x];
  const int64_t begin = int64_t(table.block_chunk[blockIdx.x]) * kChunk;
  const int64_t end = table.n[t] < begin + kChunk ? table.n[t] : begin + kChunk;
  T* p[K];
  for (int k = 0; k < K; ++k) p[k] = table.ptr[k][t];
  for (int64_t i = begin + threadIdx.x; i < end; i += kThreads) op(p, i);
}

// Queues op over every element of `list` on the device's stream: as few
// launches as the table allows, none for an empty list or empty tensors.
template <class T, int K, class Op>
void apply(const std::vector<Entry<T, K>>& list, const Op& op, const float* skip_if, int device) {
  using TableT = Table<T, K>;
  static_assert(sizeof(TableT) + sizeof(Op) + sizeof(const float*) <= 4096 - 256,
                "multi-tensor kernel parameters must stay under the 4 KiB limit");
  TableT table{};
  int tensors = 0, blocks = 0;
  cudaStream_t stream = nullptr;
  auto flush = [&] {
    if (blocks > 0) {
      if (stream == nullptr) stream = use_device(device);
      apply_kernel<T, K, Op><<<blocks, kThreads, 0, stream>>>(table, op, skip_if);
      DML_CUDA_CHECK(cudaGetLastError());
    }
    tensors = blocks = 0;
  };
  auto add_tensor = [&](const Entry<T, K>& e) {
    for (int k = 0; k < K; ++k) table.ptr[k][tensors] = e.ptr[k];
    table.n[tensors] = e.n;
    ++tensors;
  };
  for (const Entry<T, K>& e : list) {
    if (e.n == 0) continue;
    const int64_t chunks = (e.n + kChunk - 1) / kChunk;
    DML_CHECK(chunks <= INT32_MAX, "multi-tensor kernel: a tensor of ", e.n,
              " elements exceeds the chunk index range; split it");
    if (tensors == TableT::kMaxTensors) flush();
    add_tensor(e);
    for (int64_t c = 0; c < chunks; ++c) {
      if (blocks == kMaxBlocks) {  // launch the full table; this tensor continues in the next
        flush();
        add_tensor(e);
      }
      table.block_tensor[blocks] = uint8_t(tensors - 1);
      table.block_chunk[blocks] = int32_t(c);
      ++blocks;
    }
  }
  flush();
}

}  // namespace dml::cuda::multi_tensor
