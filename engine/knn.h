#pragma once
// Exact k-nearest-neighbour search of queries [Q, D] in a database [N, D]
// (f32) by chunked GEMM + streaming top-k: the engine op behind evaluation's
// retrieval metrics, k-means' assignment step and the kNN classifier. On the
// CPU (GEMM tiles, then kernels/cpu/nearest_selection.h), or on a CUDA device
// for k <= 32 (cuBLAS tiles, then kernels/cuda/knn_select.h; deeper searches
// of CUDA tensors run on CPU copies and the results go back to the device).
//
// Distances: KnnMetric::euclidean gives squared Euclidean distances
// ||q||^2 + ||x||^2 - 2 q.x (clamped at 0); KnnMetric::cosine gives
// 1 - cos(q, x), computed on L2-normalised copies (a zero row stays zero:
// distance 1 to everything). Neighbours come sorted by distance, ties broken
// by lower database index. Not differentiable: no autograd history.
//
// Memory: queries are processed in chunks of `chunk_rows`, each against the
// database in blocks of kKnnBlockCols rows, so besides the inputs (and their
// normalised copies for cosine) each thread holds one chunk_rows x
// kKnnBlockCols tile of dot products and, per query of its chunk, a
// candidate buffer of 2k + 64 (index, distance) pairs (8 bytes each): never an
// N x N or Q x N matrix. With k up to R for MAP@R (R ~ 6,000 same-class items)
// and the default 256 rows that is 256 x 12,064 x 8 B ~ 25 MB per thread.
// Searches of depth >= 128 in a database of >= 4,096 rows also keep a
// 1,024-row sample of the database (engine/ops/knn.cpp explains why). On
// CUDA: the inputs, their norms (and normalised copies for cosine), the
// [Q, k] results and one chunk_rows x block_cols tile of dots.
//
// Threads: OpenMP over query chunks (dynamic schedule); each chunk's GEMMs run
// on its own thread.
//
// Errors (dml::Error, naming "knn"): inputs not f32 matrices of one dim on one
// device, rows holding NaN or inf, k beyond the rows a query can return,
// exclude_self with Q != N, chunk_rows < 1, N >= 2^32.
#include <cstdint>
#include <functional>

#include "engine/tensor.h"

namespace dml {

enum class KnnMetric { euclidean, cosine };

// Database rows a query chunk is multiplied against at a time (CPU).
constexpr int64_t kKnnBlockCols = 1024;

struct KnnOptions {
  KnnMetric metric = KnnMetric::euclidean;
  // Queries are the database rows themselves (Q == N): query i never returns
  // row i. Excluded by index, so an exact duplicate of row i still counts.
  bool exclude_self = false;
  int64_t chunk_rows = 256;  // queries per work item
  // CUDA only: database rows per tile of dots (0: about 1 GiB of f32 per
  // chunk of queries).
  int64_t block_cols = 0;
  // CPU, euclidean only: the database's squared row norms from
  // knn_sq_norms, kept by a caller that searches one database many times
  // (an index), so a search does not recompute them (for one query that is
  // as much work as the search itself). Null: computed per search.
  const float* database_sq_norms = nullptr;
  // CPU, cosine only: the database rows are already l2_normalize(database,
  // 1) (an index normalises once at add), so a search neither normalises a
  // copy of them (a pass and a database-sized allocation per search) nor
  // checks them again.
  bool database_normalized = false;
};

// The squared L2 norm of each of `count` rows of `dim` floats into out, as a
// euclidean search uses them (summed in f64, rounded to f32). Returns the
// first row whose norm is not a finite f32 (a NaN or inf in it, or squares
// that overflow: a search refuses such a row), or -1.
int64_t knn_sq_norms(const float* rows, int64_t count, int64_t dim, float* out);

struct KnnResult {
  Tensor indices;    // i64 [Q, k]
  Tensor distances;  // f32 [Q, k], ascending
};

// The k nearest database rows of every query, on the inputs' device. k must
// not exceed the rows a query can return (N, or N - 1 with exclude_self).
KnnResult knn(const Tensor& queries, const Tensor& database, int64_t k,
              const KnnOptions& options = {});

// Streaming form for callers that need a different k per query (MAP@R needs
// the R nearest, R = the query's same-class count) or that reduce each
// neighbour list at once instead of storing it. visit(query, indices,
// distances, count) receives the depth(query) nearest, sorted as above, in
// host memory (CUDA inputs are searched on CPU copies); it is called once per
// query, concurrently from several threads for different queries, so it must
// only write to per-query state. depth(query) is called once per query, also
// concurrently.
using NeighborVisitor = std::function<void(int64_t query, const int64_t* indices,
                                           const float* distances, int64_t count)>;
void visit_neighbors(const Tensor& queries, const Tensor& database,
                     const std::function<int64_t(int64_t query)>& depth,
                     const NeighborVisitor& visit, const KnnOptions& options = {});

}  // namespace dml
