#pragma once
// The selection half of exact kNN on a CUDA device (engine/knn.h): given a
// block of dot products between queries and database rows (from a cuBLAS
// GEMM), merges each query's k nearest database rows of the block into its
// running list. One pass over the block: each thread keeps its own sorted
// candidates in registers, then the block's threads merge their lists in
// shared memory. Distances and ordering are the CPU search's:
//   distance(r, j) = max(offset[r] + (bias[j] + scale * dots[r, j]), 0),
// ascending, ties broken by the lower database index.
#include <cstdint>

namespace dml::cuda {

// The deepest search the kernel keeps in registers; deeper searches (MAP@R's
// R nearest) use the CPU search.
constexpr int64_t kMaxKnnSelect = 32;

struct KnnBlock {
  const float* dots = nullptr;    // [rows, cols], row stride cols
  int64_t rows = 0, cols = 0;     // queries of the chunk, database rows of the block
  const float* offset = nullptr;  // [rows]: per query
  const float* bias = nullptr;    // [cols]: per database row
  float scale = -2.f;
  int64_t first_col = 0;  // database index of the block's column 0
  // Query r's own database row is first_self + r (excluded from its
  // neighbours) when exclude_self.
  bool exclude_self = false;
  int64_t first_self = 0;
};

// best_dist / best_index [rows, k], sorted as above: read (when
// block.first_col > 0, i.e. after the first block) and replaced by the k
// nearest of the old list and the block. 1 <= k <= kMaxKnnSelect.
void knn_select(const KnnBlock& block, int64_t k, float* best_dist, int64_t* best_index,
                int device);

}  // namespace dml::cuda
