// The exact index through the C API: dml_index_create / close / add /
// search / size / dim / metric / save / load, over dml::api::ExactIndex.
#include <algorithm>
#include <memory>
#include <vector>

#include "api/arguments.h"
#include "api/exact_index.h"
#include "api/files.h"
#include "api/status.h"

struct dml_index {
  dml::api::ExactIndex index;
};

using namespace dml::api;

namespace {

constexpr const char* kIndexExpected = "an index from dml_index_create or dml_index_load";

}  // namespace

extern "C" {

dml_status dml_index_create(int64_t dim, dml_metric metric, dml_index** index) {
  return guarded(__func__, [&] {
    DML_API_CHECK(dim >= 1, DML_ERROR_INVALID_ARGUMENT, "dim is ", dim,
                  "; pass the length of the vectors (>= 1)");
    DML_API_CHECK(metric == DML_METRIC_L2 || metric == DML_METRIC_COSINE,
                  DML_ERROR_INVALID_ARGUMENT, "metric is ", int(metric),
                  "; pass DML_METRIC_L2 or DML_METRIC_COSINE");
    require_pointer(index, "index", "the address of a dml_index* to receive the index");
    const IndexMetric m = metric == DML_METRIC_L2 ? IndexMetric::l2 : IndexMetric::cosine;
    *index = new dml_index{ExactIndex(dim, m)};
  });
}

void dml_index_close(dml_index* index) {
  delete index;
}

dml_status dml_index_add(dml_index* index, const float* vectors, const int64_t* ids, size_t count) {
  return guarded(__func__, [&] {
    require_pointer(index, "index", kIndexExpected);
    if (count == 0) return;
    require_pointer(vectors, "vectors", "count x dim floats, row-major");
    require_pointer(ids, "ids", "count int64 ids (>= 0)");
    checked_elements(count, index->index.dim(), "floats of vectors");
    // ExactIndex adds all or nothing: a bad value or id throws before any row lands.
    with_status(DML_ERROR_INVALID_ARGUMENT, "",
                [&] { index->index.add(vectors, ids, int64_t(count)); });
  });
}

dml_status dml_index_search(const dml_index* index, const float* queries, size_t count, size_t k,
                            int64_t* ids, float* distances) {
  return guarded(__func__, [&] {
    require_pointer(index, "index", kIndexExpected);
    DML_API_CHECK(k >= 1, DML_ERROR_INVALID_ARGUMENT,
                  "k is 0; pass how many neighbours to find per query (>= 1)");
    if (count == 0) return;
    require_pointer(queries, "queries", "count x dim floats, row-major");
    require_pointer(ids, "ids", "a buffer of count x k int64");
    require_pointer(distances, "distances", "a buffer of count x k floats");
    checked_elements(count, index->index.dim(), "floats of queries");
    const size_t slots =
        checked_elements(count, int64_t(std::min<size_t>(k, INT64_MAX)), "result slots");
    // Into buffers of the call's own first, so a failure leaves the caller's untouched.
    std::vector<int64_t> found_ids(slots);
    std::vector<float> found_distances(slots);
    with_status(DML_ERROR_INVALID_ARGUMENT, "", [&] {
      index->index.search(queries, int64_t(count), int64_t(k), found_ids.data(),
                          found_distances.data());
    });
    std::copy(found_ids.begin(), found_ids.end(), ids);
    std::copy(found_distances.begin(), found_distances.end(), distances);
  });
}

dml_status dml_index_size(const dml_index* index, int64_t* size) {
  return guarded(__func__, [&] {
    require_pointer(index, "index", kIndexExpected);
    require_pointer(size, "size", "the address of an int64_t");
    *size = index->index.size();
  });
}

dml_status dml_index_dim(const dml_index* index, int64_t* dim) {
  return guarded(__func__, [&] {
    require_pointer(index, "index", kIndexExpected);
    require_pointer(dim, "dim", "the address of an int64_t");
    *dim = index->index.dim();
  });
}

dml_status dml_index_metric(const dml_index* index, dml_metric* metric) {
  return guarded(__func__, [&] {
    require_pointer(index, "index", kIndexExpected);
    require_pointer(metric, "metric", "the address of a dml_metric");
    *metric = index->index.metric() == IndexMetric::l2 ? DML_METRIC_L2 : DML_METRIC_COSINE;
  });
}

dml_status dml_index_save(const dml_index* index, const char* path) {
  return guarded(__func__, [&] {
    require_pointer(index, "index", kIndexExpected);
    require_pointer(path, "path", "the path to write the index to");
    with_status(DML_ERROR_IO, "", [&] { index->index.save(path); });
  });
}

dml_status dml_index_load(const char* path, dml_index** index) {
  return guarded(__func__, [&] {
    require_pointer(path, "path", "the path of an index written by dml_index_save");
    require_pointer(index, "index", "the address of a dml_index* to receive the index");
    require_readable_file(path, "index file");
    ExactIndex loaded = with_status(DML_ERROR_FORMAT, "", [&] { return ExactIndex::load(path); });
    *index = new dml_index{std::move(loaded)};
  });
}

}  // extern "C"
