#pragma once
// An exact nearest-neighbour index of embeddings with integer ids: what a
// deployment searches a gallery with. Search is the engine's exact kNN
// (engine/knn.h: chunked GEMM + streaming top-k), so results equal a brute
// force scan; ties go to the earlier-added row.
//
// Distances: IndexMetric::l2 gives squared Euclidean distances (as a flat L2
// index does), IndexMetric::cosine gives 1 - cos(q, x). Both ascending.
// A search for more neighbours than the index holds fills the rest of each
// row with id -1 and distance +inf.
//
// Ids are any int64 >= 0 chosen by the caller (duplicates allowed; -1 is the
// "no result" marker). Vectors and queries must be finite.
//
// Threads: searches run concurrently with each other; add() waits for
// running searches and blocks new ones while it appends (a shared mutex).
//
// Files: safetensors (tensors "vectors" f32 [N, D], "ids" i64 [N]; metadata
// "format": "dml-index-1", "metric": "l2" | "cosine"), written atomically.
// load() treats the file as hostile: the safetensors reader's checks, then
// the format, metric, dtypes, shapes, ids >= 0 and finite vectors, each
// failure one dml::Error naming the file.
#include <cstdint>
#include <memory>
#include <string>

namespace dml::api {

enum class IndexMetric { l2, cosine };

class ExactIndex {
 public:
  // dim >= 1.
  ExactIndex(int64_t dim, IndexMetric metric);
  ~ExactIndex();
  ExactIndex(ExactIndex&&) noexcept;
  ExactIndex& operator=(ExactIndex&&) noexcept;

  // Appends `count` rows of `dim` floats and their ids; count 0 is a no-op.
  // A non-finite value or a negative id throws and adds nothing.
  void add(const float* vectors, const int64_t* ids, int64_t count);

  // For each of `count` queries (rows of dim floats), its k nearest: ids
  // [count, k] and distances [count, k], row-major. k >= 1.
  void search(const float* queries, int64_t count, int64_t k, int64_t* ids, float* distances) const;

  int64_t size() const;
  int64_t dim() const;
  IndexMetric metric() const;

  void save(const std::string& path) const;
  static ExactIndex load(const std::string& path);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dml::api
