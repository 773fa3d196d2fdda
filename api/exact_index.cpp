// The exact index (api/exact_index.h): rows kept in one growable f32 tensor
// whose first size() rows are searched in place through the engine's kNN op.
//
// What a search would otherwise recompute over the whole database is kept
// from add(): an l2 index keeps each row's squared norm (KnnOptions::
// database_sq_norms), a cosine index keeps its rows L2-normalised (KnnOptions::
// database_normalized) instead of as added, so no search makes a normalised
// copy of the database (a pass over it and as much memory again, per search
// and per concurrent search). Its file holds the normalised rows.
#include "api/exact_index.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <utility>
#include <vector>

#include "base/error.h"
#include "engine/autograd.h"
#include "engine/knn.h"
#include "engine/ops.h"
#include "engine/safetensors.h"
#include "engine/tensor.h"

namespace dml::api {

namespace {

constexpr const char* kFormat = "dml-index-1";
// The kNN op indexes rows with 32 bits.
constexpr int64_t kMaxRows = (int64_t(1) << 32) - 1;
// The first buffer holds this many rows; later ones grow by half, so adding
// n rows one at a time copies each row about three times in all.
constexpr int64_t kMinCapacityRows = 64;

const char* metric_name(IndexMetric metric) {
  return metric == IndexMetric::l2 ? "l2" : "cosine";
}

KnnMetric knn_metric(IndexMetric metric) {
  return metric == IndexMetric::l2 ? KnnMetric::euclidean : KnnMetric::cosine;
}

// Rows normalised a chunk at a time keep the temporaries of l2_normalize small.
constexpr int64_t kNormalizeChunkRows = 16384;
// A loaded cosine index whose rows are not all of unit length (a file written
// elsewhere) is normalised on load.
constexpr float kUnitTolerance = 1e-4f;

// count rows from src into dst as the index keeps them: l2 as given, cosine
// as l2_normalize(rows, 1) makes them (row by row, so the same whether rows
// come in one add or many). dst may be src.
void store_rows(const float* src, int64_t count, int64_t dim, IndexMetric metric, float* dst) {
  if (metric == IndexMetric::l2) {
    if (dst != src) std::memcpy(dst, src, size_t(count * dim) * sizeof(float));
    return;
  }
  NoGradGuard no_grad;
  for (int64_t r0 = 0; r0 < count; r0 += kNormalizeChunkRows) {
    const int64_t rows = std::min(kNormalizeChunkRows, count - r0);
    const size_t bytes = size_t(rows * dim) * sizeof(float);
    Tensor chunk = Tensor::empty({rows, dim});
    std::memcpy(chunk.data<float>(), src + r0 * dim, bytes);
    std::memcpy(dst + r0 * dim, l2_normalize(chunk, 1).data<float>(), bytes);
  }
}

bool all_unit_or_zero(const std::vector<float>& sq_norms) {
  return std::all_of(sq_norms.begin(), sq_norms.end(),
                     [](float s) { return s == 0 || std::abs(s - 1) <= kUnitTolerance; });
}

int64_t first_negative(const int64_t* ids, int64_t count) {
  const int64_t* it = std::find_if(ids, ids + count, [](int64_t id) { return id < 0; });
  return it == ids + count ? -1 : int64_t(it - ids);
}

// A shared mutex that lets a waiting writer in first: once add() waits, new
// searches wait behind it. (glibc's std::shared_mutex prefers readers, so a
// steady stream of overlapping searches would hold an add off for ever.)
class WriterFirstMutex {
 public:
  void lock() {
    std::unique_lock lock(mutex_);
    ++writers_waiting_;
    changed_.wait(lock, [this] { return !writing_ && readers_ == 0; });
    --writers_waiting_;
    writing_ = true;
  }
  void unlock() {
    {
      std::lock_guard lock(mutex_);
      writing_ = false;
    }
    changed_.notify_all();
  }
  void lock_shared() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return !writing_ && writers_waiting_ == 0; });
    ++readers_;
  }
  void unlock_shared() {
    bool last;
    {
      std::lock_guard lock(mutex_);
      last = --readers_ == 0;
    }
    if (last) changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int64_t readers_ = 0, writers_waiting_ = 0;
  bool writing_ = false;
};

}  // namespace

struct ExactIndex::Impl {
  int64_t dim;
  IndexMetric metric;
  // Searches hold it shared, add holds it alone.
  mutable WriterFirstMutex mutex;
  Tensor rows;               // f32 [capacity, dim]; rows [0, size) are the index
  std::vector<int64_t> ids;  // one per row in use
  // l2: each row's squared norm, computed by add()'s check anyway; a search
  // takes them instead of summing the whole database again (for one query
  // that costs as much as the search itself).
  std::vector<float> sq_norms;
  int64_t size() const { return int64_t(ids.size()); }
  int64_t capacity() const { return rows.defined() ? rows.size(0) : 0; }

  // Room for `needed` rows, keeping the rows in use; either succeeds whole or
  // throws with nothing changed.
  void reserve(int64_t needed) {
    const int64_t grown = std::max({needed, capacity() + capacity() / 2, kMinCapacityRows});
    if (int64_t(ids.capacity()) < needed) ids.reserve(size_t(grown));
    if (metric == IndexMetric::l2 && int64_t(sq_norms.capacity()) < needed)
      sq_norms.reserve(size_t(grown));
    if (needed <= capacity()) return;
    Tensor bigger = Tensor::empty({grown, dim});
    if (size() > 0)
      std::memcpy(bigger.data<float>(), rows.data<float>(), size_t(size() * dim) * sizeof(float));
    rows = std::move(bigger);
  }

  Tensor in_use() const { return capacity() == size() ? rows : rows.slice(0, size()); }
};

ExactIndex::ExactIndex(int64_t dim, IndexMetric metric) : impl_(std::make_unique<Impl>()) {
  DML_CHECK(dim >= 1, "ExactIndex: dim = ", dim, " must be >= 1 (the floats per embedding)");
  DML_CHECK(metric == IndexMetric::l2 || metric == IndexMetric::cosine,
            "ExactIndex: unknown metric ", int(metric), "; use IndexMetric::l2 or cosine");
  impl_->dim = dim;
  impl_->metric = metric;
}

ExactIndex::~ExactIndex() = default;
ExactIndex::ExactIndex(ExactIndex&&) noexcept = default;
ExactIndex& ExactIndex::operator=(ExactIndex&&) noexcept = default;

void ExactIndex::add(const float* vectors, const int64_t* ids, int64_t count) {
  Impl& m = *impl_;
  DML_CHECK(count >= 0, "ExactIndex::add: count = ", count, " must be >= 0");
  if (count == 0) return;
  DML_CHECK(vectors && ids, "ExactIndex::add: ", vectors ? "ids" : "vectors",
            " is null for count = ", count);
  DML_CHECK(count <= kMaxRows / m.dim, "ExactIndex::add: count = ", count, " rows of dim ", m.dim,
            " is more than an index can hold (", kMaxRows, " rows)");
  std::vector<float> norms(static_cast<size_t>(count));
  const int64_t bad_row = knn_sq_norms(vectors, count, m.dim, norms.data());
  DML_CHECK(bad_row < 0, "ExactIndex::add: row ", bad_row,
            " holds NaN or inf (or values whose squares overflow f32); nothing was added");
  const int64_t bad_id = first_negative(ids, count);
  DML_CHECK(bad_id < 0, "ExactIndex::add: id ", ids[bad_id], " of row ", bad_id,
            " is negative; ids must be >= 0 (-1 marks an empty result); nothing was added");

  std::unique_lock lock(m.mutex);
  DML_CHECK(m.size() <= kMaxRows - count, "ExactIndex::add: ", m.size(), " + ", count,
            " rows is more than an index can hold (", kMaxRows, ")");
  m.reserve(m.size() + count);
  // Rows beyond size() are not searched, so a throw here (memory for the
  // normalisation) still adds nothing.
  store_rows(vectors, count, m.dim, m.metric, m.rows.data<float>() + m.size() * m.dim);
  // Capacity reserved above: these cannot throw.
  m.ids.insert(m.ids.end(), ids, ids + count);
  if (m.metric == IndexMetric::l2) m.sq_norms.insert(m.sq_norms.end(), norms.begin(), norms.end());
}

void ExactIndex::search(const float* queries, int64_t count, int64_t k, int64_t* ids,
                        float* distances) const {
  const Impl& m = *impl_;
  DML_CHECK(k >= 1, "ExactIndex::search: k = ", k, " must be >= 1");
  DML_CHECK(count >= 0, "ExactIndex::search: count = ", count, " must be >= 0");
  if (count == 0) return;
  DML_CHECK(queries && ids && distances, "ExactIndex::search: ",
            !queries ? "queries"
            : !ids   ? "ids"
                     : "distances",
            " is null for count = ", count);
  DML_CHECK(count <= std::numeric_limits<int64_t>::max() / std::max(m.dim, k),
            "ExactIndex::search: count = ", count, " queries is too many for dim ", m.dim,
            " and k = ", k);
  std::vector<float> query_norms(static_cast<size_t>(count));
  const int64_t bad_query = knn_sq_norms(queries, count, m.dim, query_norms.data());
  DML_CHECK(bad_query < 0, "ExactIndex::search: query ", bad_query,
            " holds NaN or inf (or values whose squares overflow f32)");

  std::shared_lock lock(m.mutex);
  const int64_t found = std::min(k, m.size());
  for (int64_t q = 0; q < count; ++q) {
    std::fill(ids + q * k + found, ids + (q + 1) * k, int64_t(-1));
    std::fill(distances + q * k + found, distances + (q + 1) * k,
              std::numeric_limits<float>::infinity());
  }
  if (found == 0) return;
  // The kNN op reads tensors: the queries are copied once (the rows are
  // searched where they lie).
  Tensor query_rows = Tensor::empty({count, m.dim});
  std::memcpy(query_rows.data<float>(), queries, size_t(count * m.dim) * sizeof(float));
  visit_neighbors(
      query_rows, m.in_use(), [found](int64_t) { return found; },
      [&](int64_t q, const int64_t* rows, const float* dist, int64_t n) {
        for (int64_t j = 0; j < n; ++j) ids[q * k + j] = m.ids[size_t(rows[j])];
        std::copy(dist, dist + n, distances + q * k);
      },
      {.metric = knn_metric(m.metric),
       .database_sq_norms = m.metric == IndexMetric::l2 ? m.sq_norms.data() : nullptr,
       .database_normalized = m.metric == IndexMetric::cosine});
}

int64_t ExactIndex::size() const {
  std::shared_lock lock(impl_->mutex);
  return impl_->size();
}

int64_t ExactIndex::dim() const {
  return impl_->dim;
}

IndexMetric ExactIndex::metric() const {
  return impl_->metric;
}

void ExactIndex::save(const std::string& path) const {
  const Impl& m = *impl_;
  std::shared_lock lock(m.mutex);
  write_safetensors(path,
                    {{"vectors", m.size() > 0 ? m.in_use() : Tensor::empty({0, m.dim})},
                     {"ids", from_vector(m.ids, {m.size()})}},
                    {{"format", kFormat}, {"metric", metric_name(m.metric)}});
}

namespace {

// Each check of a loaded file, failing with one message naming the file.
template <class... Args>
void check_file(bool ok, const std::string& path, const Args&... what) {
  DML_CHECK(ok, "ExactIndex::load: ", path, ": ", what...,
            "; the file is not an index written by ExactIndex::save");
}

const Tensor* find_tensor(const NamedTensors& tensors, const std::string& name) {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

IndexMetric parse_metric(const SafetensorsFile& file, const std::string& path) {
  const auto it = file.metadata.find("metric");
  check_file(it != file.metadata.end(), path, "no \"metric\" in its metadata");
  check_file(it->second == "l2" || it->second == "cosine", path, "metric \"", it->second,
             "\" is neither \"l2\" nor \"cosine\"");
  return it->second == "l2" ? IndexMetric::l2 : IndexMetric::cosine;
}

}  // namespace

ExactIndex ExactIndex::load(const std::string& path) {
  SafetensorsFile file = read_safetensors(path);
  const auto format = file.metadata.find("format");
  check_file(format != file.metadata.end(), path, "no \"format\" in its metadata");
  check_file(format->second == kFormat, path, "format \"", format->second, "\" is not \"", kFormat,
             "\"");
  const IndexMetric metric = parse_metric(file, path);
  check_file(file.tensors.size() == 2, path, "it holds ", file.tensors.size(),
             " tensors, an index exactly two (\"vectors\" and \"ids\")");
  const Tensor* vectors = find_tensor(file.tensors, "vectors");
  const Tensor* ids = find_tensor(file.tensors, "ids");
  check_file(vectors && ids, path, "it lacks tensor \"", vectors ? "ids" : "vectors", "\"");
  check_file(vectors->dtype() == DType::f32 && vectors->dim() == 2 && vectors->size(1) >= 1, path,
             "\"vectors\" is ", describe(*vectors), ", expected f32 [rows, dim] with dim >= 1");
  check_file(ids->dtype() == DType::i64 && ids->dim() == 1, path, "\"ids\" is ", describe(*ids),
             ", expected i64 [rows]");
  const int64_t rows = vectors->size(0), dim = vectors->size(1);
  check_file(ids->size(0) == rows, path, "\"ids\" has ", ids->size(0), " rows but \"vectors\" ",
             rows);
  check_file(rows <= kMaxRows, path, rows, " rows is more than an index can hold");
  const int64_t bad_id = first_negative(ids->data<int64_t>(), rows);
  check_file(bad_id < 0, path, "id of row ", bad_id, " is negative");
  std::vector<float> norms(static_cast<size_t>(rows));
  const int64_t bad_row = knn_sq_norms(vectors->data<float>(), rows, dim, norms.data());
  check_file(bad_row < 0, path, "row ", bad_row,
             " of \"vectors\" holds NaN or inf (or values whose squares overflow f32)");

  ExactIndex index(dim, metric);
  index.impl_->rows = *vectors;  // the file's buffer becomes the index's: no copy
  index.impl_->ids = ids->to_vector<int64_t>();
  if (metric == IndexMetric::l2)
    index.impl_->sq_norms = std::move(norms);
  else if (!all_unit_or_zero(norms))
    store_rows(vectors->data<float>(), rows, dim, metric, vectors->data<float>());
  return index;
}

}  // namespace dml::api
