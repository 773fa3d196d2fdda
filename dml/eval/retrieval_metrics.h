#pragma once
// Retrieval metrics from nearest neighbours and class labels, as defined by
// Musgrave et al. 2020, "A Metric Learning Reality Check":
//   recall@k     1 if any of the k nearest shares the query's class, else 0
//   precision@1  1 if the nearest shares the query's class, else 0
//   r_precision  r / R: R = same-class items the query can retrieve, r = how
//                many of its R nearest are same-class
//   map@r        (1/R) sum over i <= R of P(i) * rel(i): P(i) = precision
//                among the i nearest, rel(i) = whether the i-th nearest is
//                same-class
// Each is computed per query, and the overall figure is the mean over scored
// queries. A query with R = 0 (its class has no other item in the database)
// can retrieve nothing relevant: as in pytorch-metric-learning's "lone query"
// rule it is not scored by any metric: its per-query values are NaN and it is
// left out of every mean (and of the group counts of `breakdown`).
//
// Two protocols: one set against itself (CUB, Cars, SOP: exclude_self, each
// query's own row is not a neighbour and R = class count - 1), or queries
// against a separate gallery (In-Shop: R = the gallery's count of the class).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dml/eval/knn.h"
#include "engine/tensor.h"

namespace dml::eval {

struct RetrievalOptions {
  std::vector<int64_t> recall_ks = {1, 2, 4, 8};
  // R-precision and MAP@R: each query searches its R nearest (R up to a
  // class's size); see knn.h for what that costs in memory.
  bool r_metrics = true;
};

// Named results in report order. Retrieval metrics: recall@<k> for each k,
// precision@1, then r_precision and map@r; evaluate_embeddings appends nmi
// and f1 to `metrics` (they have no per-query values).
struct RetrievalReport {
  std::vector<std::pair<std::string, double>> metrics;                 // overall
  std::vector<std::pair<std::string, std::vector<double>>> per_query;  // [Q] each; NaN = unscored
  std::vector<int64_t> relevant;                                       // R of each query
  int64_t scored_queries = 0;                                          // queries with R > 0
  std::vector<int64_t> cluster_assignments;  // k-means cluster of each sample, when clustered

  // The named value; throws dml::Error naming what is available if absent.
  double metric(std::string_view name) const;
  const std::vector<double>& per_query_values(std::string_view name) const;
};

// Searches each query's neighbours (as deep as the metrics need: the largest
// recall k, or R when deeper) and scores it, without storing neighbour lists.
// Labels are i64 [Q] and [N]. With knn.exclude_self, queries and database are
// one set (pass the same tensors).
RetrievalReport retrieval_metrics(const Tensor& queries, const Tensor& query_labels,
                                  const Tensor& database, const Tensor& database_labels,
                                  const RetrievalOptions& options, const KnnOptions& knn);

// The same metrics from stored neighbour lists, i64 [Q, k] nearest first
// (from knn()); k must reach every query's needed depth. exclude_self says
// the lists come from a search of a set against itself, so R = class count - 1.
RetrievalReport retrieval_metrics_from_neighbors(const Tensor& neighbor_indices,
                                                 const Tensor& query_labels,
                                                 const Tensor& database_labels, bool exclude_self,
                                                 const RetrievalOptions& options);

// Per-group mean of per-query values (NaN values skipped), by group id
// ascending. A group = any i64 label per query: a class, an attribute value.
struct GroupMean {
  int64_t group = 0;
  double mean = 0;    // NaN when the group has no scored query
  int64_t count = 0;  // scored queries in the group
};
std::vector<GroupMean> breakdown(const std::vector<double>& per_query_values,
                                 const std::vector<int64_t>& group_ids);

}  // namespace dml::eval
