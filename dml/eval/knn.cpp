#include "dml/eval/knn.h"

#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <vector>

#include "dml/eval/nearest_selection.h"
#include "engine/autograd.h"
#include "engine/ops.h"
#include "kernels/cpu/gemm.h"

namespace dml::eval {

std::string metric_name(Metric metric) {
  return metric == Metric::cosine ? "cosine" : "euclidean";
}

Metric parse_metric(const std::string& name) {
  if (name == "euclidean") return Metric::euclidean;
  if (name == "cosine") return Metric::cosine;
  throw Error(detail::concat("unknown metric '", name, "': use euclidean or cosine"));
}

namespace {

// One side of the search in the form the distance formula reads:
// distance(q, x) = offset[q] + bias[x] + scale * dot(rows[q], rows[x]).
// Euclidean: offset and bias are squared norms, scale -2. Cosine: rows are
// normalised, offset 1, bias 0, scale -1.
struct Side {
  const float* rows = nullptr;
  Tensor normalized;            // cosine: the normalised copy rows points to
  std::vector<float> sq_norms;  // euclidean: offset (queries) or bias (database)
};

void check_input(const Tensor& t, const char* what) {
  DML_CHECK(t.dim() == 2, "knn: ", what, " must be a matrix [rows, dim], got ", describe(t));
  DML_CHECK(t.dtype() == DType::f32 && t.device().is_cpu(), "knn: ", what,
            " must be f32 on the CPU, got ", describe(t), "; convert with .to()");
}

// Squared norms of the rows in double, checked: a NaN or inf anywhere in a
// row (or squares that overflow f32) would make its distances meaningless.
std::vector<double> row_sq_norms(const float* x, int64_t rows, int64_t dim, const char* what) {
  std::vector<double> out(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) {
    double s = 0;
    for (int64_t j = 0; j < dim; ++j) s += double(x[i * dim + j]) * double(x[i * dim + j]);
    DML_CHECK(std::isfinite(float(s)), "knn: ", what, " row ", i,
              " holds NaN or inf (or values too large to square in f32); check the embeddings");
    out[size_t(i)] = s;
  }
  return out;
}

Side prepare(const Tensor& t, Metric metric, const char* what) {
  const std::vector<double> sq = row_sq_norms(t.data<float>(), t.size(0), t.size(1), what);
  Side side;
  if (metric == Metric::euclidean) {
    side.rows = t.data<float>();
    side.sq_norms.assign(sq.begin(), sq.end());
    return side;
  }
  NoGradGuard no_grad;
  side.normalized = l2_normalize(t, 1);  // a zero row stays zero, as F.normalize
  side.rows = side.normalized.data<float>();
  return side;
}

// What one thread keeps between chunks.
struct Workspace {
  std::vector<float> dots;  // chunk_rows x kKnnBlockCols
  std::vector<NearestSelection> selections;
  std::vector<int64_t> indices;
  std::vector<float> distances;
};

}  // namespace

void visit_neighbors(const Tensor& queries, const Tensor& database,
                     const std::function<int64_t(int64_t query)>& depth,
                     const NeighborVisitor& visit, const KnnOptions& options) {
  check_input(queries, "queries");
  check_input(database, "database");
  const int64_t nq = queries.size(0), n = database.size(0), dim = queries.size(1);
  DML_CHECK(database.size(1) == dim, "knn: queries have dim ", dim, " but the database has ",
            database.size(1), "; both must come from the same embedding");
  DML_CHECK(n < (int64_t(1) << 32), "knn: the database has ", n,
            " rows; at most 2^32 - 1 are supported");
  DML_CHECK(options.chunk_rows > 0, "knn: chunk_rows = ", options.chunk_rows, " must be > 0");
  DML_CHECK(!options.exclude_self || nq == n, "knn: exclude_self needs the queries to be the ",
            "database rows (Q == N), got Q = ", nq, ", N = ", n);
  const int64_t available = options.exclude_self ? n - 1 : n;

  const bool cosine = options.metric == Metric::cosine;
  const Side q_side = prepare(queries, options.metric, "queries");
  // The same tensor on both sides (the usual exclude_self case) is prepared once.
  const bool same =
      queries.same(database) || (queries.raw_data() == database.raw_data() && nq == n);
  const Side x_side_own = same ? Side{} : prepare(database, options.metric, "database");
  const Side& x_side = same ? q_side : x_side_own;
  const std::vector<float> zero_bias(cosine ? size_t(std::min(n, kKnnBlockCols)) : 0, 0.f);
  const float scale = cosine ? -1.f : -2.f;

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
        ws.selections.resize(size_t(rows));
        int64_t max_depth = 0;
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t k = depth(q0 + r);
          DML_CHECK(k >= 0 && k <= available, "knn: query ", q0 + r, " asks for ", k,
                    " neighbours but only ", available, " database rows are available",
                    options.exclude_self ? " (its own row excluded)" : "");
          ws.selections[size_t(r)].reset(k);
          max_depth = std::max(max_depth, k);
        }
        ws.dots.resize(size_t(rows * std::min(n, kKnnBlockCols)));
        for (int64_t x0 = 0; x0 < n; x0 += kKnnBlockCols) {
          const int64_t cols = std::min(kKnnBlockCols, n - x0);
          cpu::gemm<float>(false, true, rows, cols, dim, 1.f, q_side.rows + q0 * dim, dim,
                           x_side.rows + x0 * dim, dim, 0.f, ws.dots.data(), cols);
          const float* bias = cosine ? zero_bias.data() : x_side.sq_norms.data() + x0;
          for (int64_t r = 0; r < rows; ++r) {
            float* dots = ws.dots.data() + r * cols;
            const int64_t self = q0 + r - x0;
            if (options.exclude_self && self >= 0 && self < cols)
              dots[self] = -std::numeric_limits<float>::infinity();
            const float offset = cosine ? 1.f : q_side.sq_norms[size_t(q0 + r)];
            ws.selections[size_t(r)].scan(dots, bias, offset, scale, cols, x0);
          }
        }
        ws.indices.resize(size_t(max_depth));
        ws.distances.resize(size_t(max_depth));
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t count =
              ws.selections[size_t(r)].finish(ws.indices.data(), ws.distances.data());
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
  check_input(queries, "queries");
  DML_CHECK(k >= 0, "knn: k = ", k, " must be >= 0");
  const int64_t nq = queries.size(0);
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

}  // namespace dml::eval
