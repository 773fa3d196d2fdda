// The kNN op (engine/knn.h): argument checks, the CPU search (GEMM tiles of
// dot products, then kernels/cpu/nearest_selection.h per query) and the
// routing of CUDA tensors (engine/ops/knn_cuda.h, or CPU copies).
#include "engine/knn.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <vector>

#include "base/parallel.h"
#include "engine/autograd.h"
#include "engine/ops.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/nearest_selection.h"

#ifdef DML_WITH_CUDA
#include "engine/ops/knn_cuda.h"
#include "kernels/cuda/knn_select.h"
#endif

namespace dml {

int64_t knn_sq_norms(const float* rows, int64_t count, int64_t dim, float* out) {
  std::atomic<int64_t> first_bad{count};
  parallel_for(
      count,
      [&](int64_t i) {
        double s = 0;
        for (int64_t j = 0; j < dim; ++j)
          s += double(rows[i * dim + j]) * double(rows[i * dim + j]);
        out[i] = float(s);
        if (std::isfinite(out[i])) return;
        int64_t seen = first_bad.load();
        while (i < seen && !first_bad.compare_exchange_weak(seen, i)) {
        }
      },
      kParallelGrain / (dim + 1));
  return first_bad.load() == count ? -1 : first_bad.load();
}

namespace {

// One side of the search in the form the distance formula reads:
// distance(q, x) = offset[q] + bias[x] + scale * dot(rows[q], rows[x]).
// Euclidean: offset and bias are squared norms, scale -2. Cosine: rows are
// normalised, offset 1, bias 0, scale -1.
struct Side {
  const float* rows = nullptr;
  Tensor normalized;  // cosine: the normalised copy rows points to
  // Euclidean: offset (queries) or bias (database); the caller's
  // (KnnOptions::database_sq_norms) or computed here.
  const float* kept_sq_norms = nullptr;
  std::vector<float> own_sq_norms;
  const float* sq_norms() const { return kept_sq_norms ? kept_sq_norms : own_sq_norms.data(); }
};

void check_input(const Tensor& t, const char* what) {
  DML_CHECK(t.dim() == 2, "knn: ", what, " must be a matrix [rows, dim], got ", describe(t));
  DML_CHECK(t.dtype() == DType::f32, "knn: ", what, " must be f32, got ", describe(t),
            "; convert with .to(DType::f32)");
}

// What every search needs of its inputs, on either device.
void check_search(const Tensor& queries, const Tensor& database, const KnnOptions& options) {
  check_input(queries, "queries");
  check_input(database, "database");
  DML_CHECK(queries.device() == database.device(), "knn: the queries are on ",
            queries.device().str(), " but the database on ", database.device().str(),
            "; move both to one device");
  const int64_t nq = queries.size(0), n = database.size(0), dim = queries.size(1);
  DML_CHECK(database.size(1) == dim, "knn: queries have dim ", dim, " but the database has ",
            database.size(1), "; both must come from the same embedding");
  DML_CHECK(n < (int64_t(1) << 32), "knn: the database has ", n,
            " rows; at most 2^32 - 1 are supported");
  DML_CHECK(options.chunk_rows > 0, "knn: chunk_rows = ", options.chunk_rows, " must be > 0");
  DML_CHECK(!options.exclude_self || nq == n, "knn: exclude_self needs the queries to be the ",
            "database rows (Q == N), got Q = ", nq, ", N = ", n);
}

void check_depth(int64_t query, int64_t k, int64_t available, const KnnOptions& options) {
  DML_CHECK(k >= 0 && k <= available, "knn: query ", query, " asks for ", k,
            " neighbours but only ", available, " database rows are available",
            options.exclude_self ? " (its own row excluded)" : "");
}

// Squared norms of the rows, checked: a NaN or inf anywhere in a row (or
// squares that overflow f32) would make its distances meaningless.
std::vector<float> row_sq_norms(const float* x, int64_t rows, int64_t dim, const char* what) {
  std::vector<float> out(static_cast<size_t>(rows));
  const int64_t bad = knn_sq_norms(x, rows, dim, out.data());
  DML_CHECK(bad < 0, "knn: ", what, " row ", bad,
            " holds NaN or inf (or values too large to square in f32); check the embeddings");
  return out;
}

// What a caller that searches one database many times keeps of it
// (KnnOptions); the queries come with nothing.
struct Kept {
  const float* sq_norms = nullptr;
  bool normalized = false;
};

Side prepare(const Tensor& t, KnnMetric metric, const char* what, Kept kept) {
  Side side;
  side.rows = t.data<float>();
  if (metric == KnnMetric::euclidean) {
    side.kept_sq_norms = kept.sq_norms;
    if (!kept.sq_norms) side.own_sq_norms = row_sq_norms(side.rows, t.size(0), t.size(1), what);
    return side;
  }
  if (kept.normalized) return side;
  row_sq_norms(t.data<float>(), t.size(0), t.size(1), what);
  NoGradGuard no_grad;
  side.normalized = l2_normalize(t, 1);  // a zero row stays zero, as F.normalize
  side.rows = side.normalized.data<float>();
  return side;
}

// Deep searches (MAP@R keeps R ~ thousands per query) start from a threshold
// estimated on a sample of the database instead of +inf: otherwise each query
// takes its first 2k + 64 rows unconditionally and compacts them several
// times, which cost 5x the GEMM at R = 6,000 of 60,000. The sample is every
// (N / kSampleRows)-th row; a query of depth k starts at the sample's order
// statistic kSampleSigmas standard deviations above the expected rank of its
// k-th neighbour. If fewer than k rows then fall below it (probability ~1e-4
// per query), that query is searched again from +inf, so results stay exact.
constexpr int64_t kSampleRows = 1024;
constexpr int64_t kSampledDepth = 128;
constexpr double kSampleSigmas = 4.0;

// What one thread keeps between chunks.
struct Workspace {
  std::vector<float> dots;  // chunk_rows x kKnnBlockCols (or x kSampleRows)
  std::vector<cpu::NearestSelection> selections;
  std::vector<int64_t> depths;
  std::vector<float> thresholds;
  std::vector<int64_t> indices;
  std::vector<float> distances;
};

class Search {
 public:
  Search(const Tensor& queries, const Tensor& database, const KnnOptions& options)
      : options_(options),
        nq_(queries.size(0)),
        n_(database.size(0)),
        dim_(queries.size(1)),
        cosine_(options.metric == KnnMetric::cosine),
        scale_(cosine_ ? -1.f : -2.f),
        q_side_(prepare(queries, options.metric, "queries", {})) {
    // The same tensor on both sides (the usual exclude_self case) is prepared once.
    const bool same =
        queries.same(database) || (queries.raw_data() == database.raw_data() && nq_ == n_);
    if (!same)
      x_own_ = prepare(database, options.metric, "database",
                       {options.database_sq_norms, options.database_normalized});
    x_side_ = same ? &q_side_ : &x_own_;
    if (cosine_) zero_bias_.assign(size_t(std::max(std::min(n_, kKnnBlockCols), kSampleRows)), 0);
    if (n_ >= 4 * kSampleRows) {
      sample_rows_.resize(size_t(kSampleRows * dim_));
      sample_bias_.resize(size_t(kSampleRows), 0.f);
      for (int64_t s = 0; s < kSampleRows; ++s) {
        const int64_t row = s * n_ / kSampleRows;
        std::copy(x_side_->rows + row * dim_, x_side_->rows + (row + 1) * dim_,
                  sample_rows_.begin() + s * dim_);
        if (!cosine_) sample_bias_[size_t(s)] = x_side_->sq_norms()[row];
      }
    }
  }

  int64_t available() const { return options_.exclude_self ? n_ - 1 : n_; }

  // Searches queries [q0, q0 + rows) into ws.selections (reset by the caller).
  void scan_database(int64_t q0, int64_t rows, cpu::NearestSelection* selections,
                     Workspace& ws) const {
    ws.dots.resize(size_t(rows * std::min(n_, kKnnBlockCols)));
    for (int64_t x0 = 0; x0 < n_; x0 += kKnnBlockCols) {
      const int64_t cols = std::min(kKnnBlockCols, n_ - x0);
      cpu::gemm<float>(false, true, rows, cols, dim_, 1.f, q_side_.rows + q0 * dim_, dim_,
                       x_side_->rows + x0 * dim_, dim_, 0.f, ws.dots.data(), cols);
      const float* bias = cosine_ ? zero_bias_.data() : x_side_->sq_norms() + x0;
      for (int64_t r = 0; r < rows; ++r) {
        float* dots = ws.dots.data() + r * cols;
        const int64_t self = q0 + r - x0;
        if (options_.exclude_self && self >= 0 && self < cols)
          dots[self] = -std::numeric_limits<float>::infinity();
        selections[r].scan(dots, bias, offset(q0 + r), scale_, cols, x0);
      }
    }
  }

  // Starting thresholds of queries [q0, q0 + rows): +inf, or for deep
  // searches the sampled estimate described above.
  void start_thresholds(int64_t q0, int64_t rows, Workspace& ws) const {
    ws.thresholds.assign(size_t(rows), std::numeric_limits<float>::infinity());
    const bool any_deep = std::any_of(ws.depths.begin(), ws.depths.begin() + rows,
                                      [](int64_t k) { return k >= kSampledDepth; });
    if (sample_rows_.empty() || !any_deep) return;
    ws.dots.resize(size_t(rows * kSampleRows));
    cpu::gemm<float>(false, true, rows, kSampleRows, dim_, 1.f, q_side_.rows + q0 * dim_, dim_,
                     sample_rows_.data(), dim_, 0.f, ws.dots.data(), kSampleRows);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t k = ws.depths[size_t(r)];
      if (k < kSampledDepth) continue;
      const double p = double(k) / double(available());
      const double mean = double(kSampleRows) * p;
      const int64_t rank = int64_t(std::ceil(mean + kSampleSigmas * std::sqrt(mean * (1 - p)))) + 1;
      if (rank >= kSampleRows) continue;
      float* d = ws.dots.data() + r * kSampleRows;
      for (int64_t s = 0; s < kSampleRows; ++s)
        d[s] = std::max(offset(q0 + r) + (sample_bias_[size_t(s)] + scale_ * d[s]), 0.f);
      std::nth_element(d, d + rank, d + kSampleRows);
      ws.thresholds[size_t(r)] = d[rank];
    }
  }

 private:
  float offset(int64_t query) const { return cosine_ ? 1.f : q_side_.sq_norms()[query]; }

  KnnOptions options_;
  int64_t nq_, n_, dim_;
  bool cosine_;
  float scale_;
  Side q_side_, x_own_;
  const Side* x_side_ = nullptr;
  std::vector<float> zero_bias_;
  std::vector<float> sample_rows_, sample_bias_;  // empty: no sampling
};

}  // namespace

void visit_neighbors(const Tensor& queries, const Tensor& database,
                     const std::function<int64_t(int64_t query)>& depth,
                     const NeighborVisitor& visit, const KnnOptions& options) {
  check_search(queries, database, options);
  if (queries.device().is_cuda())  // the streaming search reads host memory
    return visit_neighbors(queries.to(Device::cpu()), database.to(Device::cpu()), depth, visit,
                           options);
  const int64_t nq = queries.size(0);
  const Search search(queries, database, options);
  const int64_t available = search.available();

  const int64_t chunk = options.chunk_rows;
  const int64_t chunks = (nq + chunk - 1) / chunk;
  std::exception_ptr failure;
  std::mutex failure_mutex;

  // Dynamic schedule: on a shared machine a static split leaves one thread
  // idle while the other waits for its core.
#pragma omp parallel if (chunks > 1)
  {
    Workspace ws;
#pragma omp for schedule(dynamic)
    for (int64_t c = 0; c < chunks; ++c) {
      try {
        const int64_t q0 = c * chunk, rows = std::min(chunk, nq - q0);
        ws.depths.resize(size_t(rows));
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t k = depth(q0 + r);
          check_depth(q0 + r, k, available, options);
          ws.depths[size_t(r)] = k;
        }
        search.start_thresholds(q0, rows, ws);
        ws.selections.resize(size_t(rows));
        for (int64_t r = 0; r < rows; ++r)
          ws.selections[size_t(r)].reset(ws.depths[size_t(r)], ws.thresholds[size_t(r)]);
        search.scan_database(q0, rows, ws.selections.data(), ws);
        const int64_t max_depth = *std::max_element(ws.depths.begin(), ws.depths.end());
        ws.indices.resize(size_t(max_depth));
        ws.distances.resize(size_t(max_depth));
        for (int64_t r = 0; r < rows; ++r) {
          cpu::NearestSelection& selection = ws.selections[size_t(r)];
          int64_t count = selection.finish(ws.indices.data(), ws.distances.data());
          if (count < ws.depths[size_t(r)]) {  // the sampled threshold was too tight
            selection.reset(ws.depths[size_t(r)]);
            search.scan_database(q0 + r, 1, &selection, ws);
            count = selection.finish(ws.indices.data(), ws.distances.data());
          }
          visit(q0 + r, ws.indices.data(), ws.distances.data(), count);
        }
      } catch (...) {  // exceptions must not leave an OpenMP region
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
    }
  }
  if (failure) std::rethrow_exception(failure);
}

KnnResult knn(const Tensor& queries, const Tensor& database, int64_t k, const KnnOptions& options) {
  check_search(queries, database, options);
  DML_CHECK(k >= 0, "knn: k = ", k, " must be >= 0");
  const int64_t nq = queries.size(0);
  const Device device = queries.device();
  if (device.is_cuda()) {
    check_depth(0, k, options.exclude_self ? database.size(0) - 1 : database.size(0), options);
#ifdef DML_WITH_CUDA
    if (k >= 1 && k <= cuda::kMaxKnnSelect && nq > 0)
      return knn_cuda(queries, database, k, options);
#endif
    // Deeper searches run on the CPU; the results go back to the device.
    KnnResult r = knn(queries.to(Device::cpu()), database.to(Device::cpu()), k, options);
    return {r.indices.to(device), r.distances.to(device)};
  }
  KnnResult result{Tensor::empty({nq, k}, DType::i64), Tensor::empty({nq, k}, DType::f32)};
  int64_t* const indices = result.indices.data<int64_t>();
  float* const distances = result.distances.data<float>();
  visit_neighbors(
      queries, database, [k](int64_t) { return k; },
      [&](int64_t q, const int64_t* idx, const float* dist, int64_t count) {
        std::copy(idx, idx + count, indices + q * k);
        std::copy(dist, dist + count, distances + q * k);
      },
      options);
  return result;
}

}  // namespace dml
