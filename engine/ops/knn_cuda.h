#pragma once
// knn() for queries and a database on a CUDA device (engine/ops/knn.cpp
// calls it): per chunk of queries and block of database rows, one cuBLAS GEMM of
// dot products and one selection kernel (kernels/cuda/knn_select.h) that
// merges the block into each query's running k nearest. Memory: the inputs,
// their norms (and normalised copies for cosine), the [Q, k] results and one
// chunk_rows x block_cols tile of dots (about 1 GiB by default). Results
// stay on the device. Only built with the CUDA backend.
#include "engine/knn.h"

namespace dml {

// 1 <= k <= cuda::kMaxKnnSelect (32); knn() sends deeper searches to the CPU.
KnnResult knn_cuda(const Tensor& queries, const Tensor& database, int64_t k,
                   const KnnOptions& options);

}  // namespace dml
