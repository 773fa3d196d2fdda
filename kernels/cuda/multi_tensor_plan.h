#pragma once
// How a list of tensors is cut into multi-tensor launches
// (kernels/cuda/multi_tensor.cuh): the table one launch takes as its kernel
// parameter and the loop that fills it. Plain C++17 without CUDA, so a CPU
// test checks that every chunk of every tensor lands in exactly one launch.
//
// The list travels as a kernel parameter: K pointers and an element count
// per tensor, plus a block -> (tensor, chunk) map. That needs no device
// memory, no host-to-device copy (which would have to wait for the device or
// stage through pinned memory) and no synchronisation, and a launch with its
// parameters is what a CUDA graph records. The table stays under the classic
// 4 KiB kernel-parameter limit (static_assert in multi_tensor.cuh); a longer
// list is split over several launches, a tensor that does not fit whole
// continuing in the next one.
#include <array>
#include <climits>
#include <cstdint>
#include <vector>

#include "base/error.h"

namespace dml::cuda::multi_tensor {

// Elements one block walks: 128 per thread of a 512-thread block, enough
// that a block's start-up is small beside its memory traffic.
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
  static_assert(kMaxTensors <= 256, "block_tensor holds a tensor index in 8 bits");
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

// Calls launch(table, blocks) for each full table and the last one; never
// with 0 blocks, so an empty list or one of empty tensors launches nothing.
template <class T, int K, class Launch>
void plan(const std::vector<Entry<T, K>>& list, Launch&& launch) {
  using TableT = Table<T, K>;
  TableT table{};
  int tensors = 0, blocks = 0;
  auto flush = [&] {
    if (blocks > 0) launch(table, blocks);
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
