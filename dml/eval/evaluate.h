#pragma once
// The evaluation entry point for tools: embeddings and labels in, named
// metrics (and per-query values for breakdowns) out.
//
//   recall@k, precision@1, r_precision, map@r   retrieval_metrics.h
//   nmi, f1                                     k-means (kmeans.h) with k = the
//                                               number of classes, scored by
//                                               clustering_metrics.h
#include <cstdint>
#include <vector>

#include "dml/eval/knn.h"
#include "dml/eval/retrieval_metrics.h"
#include "engine/tensor.h"

namespace dml::eval {

struct EvalOptions {
  Metric metric = Metric::euclidean;
  std::vector<int64_t> recall_ks = {1, 2, 4, 8};
  bool r_metrics = true;   // r_precision and map@r
  bool clustering = true;  // nmi and f1 (evaluate_embeddings only)
  uint64_t seed = 0;       // k-means++ seeding
  int64_t kmeans_max_iter = 300;
  int64_t chunk_rows = 256;  // queries per kNN work item; see knn.h for memory
};

// One set searched against itself (each sample a query, its own row
// excluded): the CUB / Cars / SOP protocol. Embeddings [N, D] (any floating
// dtype and device; evaluated as f32 on the CPU), labels i64 [N]. Clustering
// runs in the metric's space (on L2-normalised rows for cosine) and fills
// cluster_assignments.
RetrievalReport evaluate_embeddings(const Tensor& embeddings, const Tensor& labels,
                                    const EvalOptions& options);

// Queries against a separate gallery (In-Shop): no self-exclusion, R = the
// gallery's count of the query's class. No clustering (options.clustering is
// not used).
RetrievalReport evaluate_query_gallery(const Tensor& queries, const Tensor& query_labels,
                                       const Tensor& gallery, const Tensor& gallery_labels,
                                       const EvalOptions& options);

}  // namespace dml::eval
