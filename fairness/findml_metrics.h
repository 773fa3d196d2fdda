#pragma once
// The finDML embedding-space metrics of one split (the held-out classes) for
// one sensitive attribute: retrieval quality and alignment per subgroup, and
// the gaps between subgroups. Definitions: fairness/AUDIT_SCHEMA.md.
//
// Retrieval: every sample is a query against the whole split (itself
// excluded), scored by dml/eval; a subgroup's value is the mean over its
// queries (eval::breakdown). Names: recall@k for each k, then map@r and
// r_precision (precision@1 equals recall@1 and is not repeated).
//
// Alignment (fairness/alignment.h) is measured in the retrieval metric's
// space: raw embeddings for euclidean, L2-normalised rows for cosine (the
// hypersphere, where uniformity is defined). Names: intra_class,
// inter_class, uniformity.
//
// NaN (written as null) marks a value with nothing to average: a subgroup of
// one sample has no pairs, a subgroup of one class no inter-class pairs, and a
// subgroup whose queries are all alone in their class no retrieval scores.
#include <cstdint>
#include <string>
#include <vector>

#include "dml/eval/knn.h"
#include "engine/tensor.h"
#include "fairness/groups.h"

namespace dml::fairness {

struct FinDmlOptions {
  eval::Metric metric = eval::Metric::euclidean;
  std::vector<int64_t> recall_ks = {1, 2, 4, 8};
  int64_t minority = kSmallestGroup;  // attribute value, or -1 for the smallest subgroup
  int64_t majority = kLargestGroup;   // attribute value, or -1 for the largest other subgroup
  double t = 2;                       // uniformity temperature
  // A subgroup with more pairs than this gets its alignment statistics from
  // this many sampled pairs each (alignment.h); seed drives the draws.
  int64_t max_pairs = 2'000'000;
  uint64_t seed = 0;
  std::string attribute = "attribute";  // names the subgroups ("tone=0") in the report
  data::ValueNames value_names{};       // of the attribute's values ("tone=inverted")
};

struct FinDmlReport {
  std::string attribute;
  data::ValueNames value_names;
  Subgroups subgroups;
  bool sampled = false;  // some subgroup's alignment came from sampled pairs
  int64_t max_pairs = 0;
  GroupComparison retrieval;  // with overall
  GroupComparison alignment;  // no overall
  // Each retrieval metric's value per query (NaN = unscored), in
  // retrieval.names order: what the bootstrap intervals resample.
  std::vector<std::vector<double>> retrieval_per_query;
};

// embeddings: floating [N, D] (evaluated as f32 on the CPU for retrieval, f64
// for alignment); labels, groups: i64 [N] (class and attribute value of each
// sample).
FinDmlReport findml_metrics(const Tensor& embeddings, const Tensor& labels, const Tensor& groups,
                            const FinDmlOptions& options);

}  // namespace dml::fairness
