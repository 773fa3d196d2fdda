// Stand-in for the exact index: a brute-force scan, until the real one lands.
#include "api/exact_index.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <numeric>
#include <shared_mutex>
#include <vector>

#include "base/error.h"
#include "engine/safetensors.h"

namespace dml::api {

struct ExactIndex::Impl {
  int64_t dim;
  IndexMetric metric;
  std::vector<float> vectors;
  std::vector<int64_t> ids;
  mutable std::shared_mutex mutex;
};

ExactIndex::ExactIndex(int64_t dim, IndexMetric metric)
    : impl_(std::make_unique<Impl>(dim, metric, std::vector<float>{}, std::vector<int64_t>{})) {
  DML_CHECK(dim >= 1, "ExactIndex: dim must be >= 1");
}
ExactIndex::~ExactIndex() = default;
ExactIndex::ExactIndex(ExactIndex&&) noexcept = default;
ExactIndex& ExactIndex::operator=(ExactIndex&&) noexcept = default;

void ExactIndex::add(const float* vectors, const int64_t* ids, int64_t count) {
  for (int64_t i = 0; i < count * impl_->dim; ++i)
    DML_CHECK(std::isfinite(vectors[i]), "ExactIndex::add: vector value ", i, " is not finite");
  for (int64_t i = 0; i < count; ++i)
    DML_CHECK(ids[i] >= 0, "ExactIndex::add: ids[", i, "] is negative");
  const std::unique_lock lock(impl_->mutex);
  impl_->vectors.insert(impl_->vectors.end(), vectors, vectors + count * impl_->dim);
  impl_->ids.insert(impl_->ids.end(), ids, ids + count);
}

void ExactIndex::search(const float* queries, int64_t count, int64_t k, int64_t* ids,
                        float* distances) const {
  DML_CHECK(k >= 1, "ExactIndex::search: k must be >= 1");
  for (int64_t i = 0; i < count * impl_->dim; ++i)
    DML_CHECK(std::isfinite(queries[i]), "ExactIndex::search: query value ", i, " is not finite");
  const std::shared_lock lock(impl_->mutex);
  const int64_t n = int64_t(impl_->ids.size()), d = impl_->dim;
  for (int64_t q = 0; q < count; ++q) {
    std::vector<float> dist(static_cast<size_t>(n));
    for (int64_t r = 0; r < n; ++r) {
      const float* a = queries + q * d;
      const float* b = impl_->vectors.data() + r * d;
      double l2 = 0, dot = 0, na = 0, nb = 0;
      for (int64_t j = 0; j < d; ++j) {
        l2 += double(a[j] - b[j]) * (a[j] - b[j]);
        dot += double(a[j]) * b[j];
        na += double(a[j]) * a[j];
        nb += double(b[j]) * b[j];
      }
      dist[size_t(r)] = impl_->metric == IndexMetric::l2
                            ? float(l2)
                            : float(1 - dot / std::max(std::sqrt(na * nb), 1e-12));
    }
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t x, int64_t y) { return dist[size_t(x)] < dist[size_t(y)]; });
    for (int64_t j = 0; j < k; ++j) {
      ids[q * k + j] = j < n ? impl_->ids[size_t(order[size_t(j)])] : -1;
      distances[q * k + j] =
          j < n ? dist[size_t(order[size_t(j)])] : std::numeric_limits<float>::infinity();
    }
  }
}

int64_t ExactIndex::size() const {
  const std::shared_lock lock(impl_->mutex);
  return int64_t(impl_->ids.size());
}
int64_t ExactIndex::dim() const {
  return impl_->dim;
}
IndexMetric ExactIndex::metric() const {
  return impl_->metric;
}

void ExactIndex::save(const std::string& path) const {
  const std::shared_lock lock(impl_->mutex);
  const int64_t n = int64_t(impl_->ids.size());
  Tensor vectors = Tensor::empty({n, impl_->dim});
  Tensor ids = Tensor::empty({n}, DType::i64);
  if (n > 0) {
    std::memcpy(vectors.raw_data(), impl_->vectors.data(), vectors.nbytes());
    std::memcpy(ids.raw_data(), impl_->ids.data(), ids.nbytes());
  }
  write_safetensors(
      path, {{"vectors", vectors}, {"ids", ids}},
      {{"format", "dml-index-1"}, {"metric", impl_->metric == IndexMetric::l2 ? "l2" : "cosine"}});
}

ExactIndex ExactIndex::load(const std::string& path) {
  SafetensorsFile file = read_safetensors(path);
  auto format = file.metadata.find("format");
  DML_CHECK(format != file.metadata.end() && format->second == "dml-index-1", path,
            ": not an index");
  auto metric = file.metadata.find("metric");
  DML_CHECK(metric != file.metadata.end() && (metric->second == "l2" || metric->second == "cosine"),
            path, ": bad metric");
  DML_CHECK(file.tensors.size() == 2, path, ": needs tensors vectors and ids");
  Tensor vectors, ids;
  for (auto& [name, t] : file.tensors) (name == "vectors" ? vectors : ids) = t;
  DML_CHECK(vectors.defined() && ids.defined() && vectors.dtype() == DType::f32 &&
                ids.dtype() == DType::i64 && vectors.dim() == 2 && ids.dim() == 1 &&
                vectors.size(0) == ids.size(0) && vectors.size(1) >= 1,
            path, ": bad tensors");
  ExactIndex index(vectors.size(1), metric->second == "l2" ? IndexMetric::l2 : IndexMetric::cosine);
  index.add(vectors.numel() ? vectors.data<float>() : nullptr,
            ids.numel() ? ids.data<int64_t>() : nullptr, ids.size(0));
  return index;
}

}  // namespace dml::api
