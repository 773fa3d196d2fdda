#include "engine/ops/knn_cuda.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/ops/common.h"
#include "kernels/cuda/blas.h"
#include "kernels/cuda/knn_select.h"

namespace dml {

using ops::kernel_data;

namespace {

// Database rows per block when the options leave it open: a chunk's tile of
// dots stays near 1 GiB of f32 (256 queries x 1M rows).
constexpr int64_t kTileElements = int64_t(1) << 28;

// Squared norms (Euclidean) of the rows, computed on the device and checked
// on the host as the CPU search checks them: a NaN or inf in a row, or
// squares that overflow f32, would make its distances meaningless.
Tensor checked_sq_norms(const Tensor& rows, const char* what) {
  Tensor sq = sum(mul(rows, rows), {1});
  const std::vector<float> host = sq.to_vector<float>();
  for (size_t i = 0; i < host.size(); ++i)
    DML_CHECK(std::isfinite(host[i]), "knn: ", what, " row ", i,
              " holds NaN or inf (or values too large to square in f32); check the embeddings");
  return sq;
}

}  // namespace

KnnResult knn_cuda(const Tensor& queries, const Tensor& database, int64_t k,
                   const KnnOptions& options) {
  DML_CHECK(k >= 1 && k <= cuda::kMaxKnnSelect, "knn: k = ", k, " on CUDA must lie in [1, ",
            cuda::kMaxKnnSelect, "]");
  const Device device = queries.device();
  const int64_t nq = queries.size(0), n = database.size(0), dim = queries.size(1);
  NoGradGuard no_grad;
  const bool cosine = options.metric == KnnMetric::cosine;
  const bool same = queries.same(database);
  // Cosine: normalised copies (a zero row stays zero, distance 1), offset 1,
  // bias 0. Euclidean: the rows themselves, squared norms as offset and bias.
  const Tensor q = cosine ? l2_normalize(queries, 1) : queries.detach();
  const Tensor x = same ? q : (cosine ? l2_normalize(database, 1) : database.detach());
  const Tensor q_sq = checked_sq_norms(queries, "queries");
  const Tensor x_sq = same ? q_sq : checked_sq_norms(database, "database");
  const Tensor offset = cosine ? full({nq}, 1.0, DType::f32, device) : q_sq;
  const Tensor bias = cosine ? zeros({n}, DType::f32, device) : x_sq;

  KnnResult result{Tensor::empty({nq, k}, DType::i64, device),
                   Tensor::empty({nq, k}, DType::f32, device)};
  const int64_t chunk = std::min(options.chunk_rows, std::max<int64_t>(nq, 1));
  const int64_t block_cols =
      std::min(n, options.block_cols > 0 ? options.block_cols
                                         : std::max<int64_t>(1024, kTileElements / chunk));
  const Tensor dots = Tensor::empty({chunk * std::max<int64_t>(block_cols, 1)}, DType::f32, device);
  for (int64_t q0 = 0; q0 < nq; q0 += chunk) {
    const int64_t rows = std::min(chunk, nq - q0);
    for (int64_t x0 = 0; x0 < n; x0 += block_cols) {
      const int64_t cols = std::min(block_cols, n - x0);
      cuda::gemm<float>(false, true, rows, cols, dim, 1.f, kernel_data<float>(q) + q0 * dim, dim,
                        kernel_data<float>(x) + x0 * dim, dim, 0.f, kernel_data<float>(dots), cols,
                        device.index);
      cuda::knn_select({.dots = kernel_data<float>(dots),
                        .rows = rows,
                        .cols = cols,
                        .offset = kernel_data<float>(offset) + q0,
                        .bias = kernel_data<float>(bias) + x0,
                        .scale = cosine ? -1.f : -2.f,
                        .first_col = x0,
                        .exclude_self = options.exclude_self,
                        .first_self = q0},
                       k, kernel_data<float>(result.distances) + q0 * k,
                       kernel_data<int64_t>(result.indices) + q0 * k, device.index);
    }
  }
  return result;
}

}  // namespace dml
