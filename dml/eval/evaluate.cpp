#include "dml/eval/evaluate.h"

#include <algorithm>

#include "dml/eval/clustering_metrics.h"
#include "dml/eval/kmeans.h"
#include "engine/autograd.h"
#include "engine/ops.h"

namespace dml::eval {

namespace {

// The embeddings as a plain f32 CPU matrix, outside autograd.
Tensor as_cpu_f32(const Tensor& t, const char* what) {
  DML_CHECK(t.dim() == 2 && is_floating(t.dtype()), "evaluate: ", what,
            " must be a floating matrix [rows, dim], got ", describe(t));
  NoGradGuard no_grad;
  Tensor out = t.detach();
  if (!out.device().is_cpu()) out = out.to(Device::cpu());
  if (out.dtype() != DType::f32) out = out.to(DType::f32);
  return out;
}

RetrievalOptions retrieval_options(const EvalOptions& o) {
  return {o.recall_ks, o.r_metrics};
}

}  // namespace

RetrievalReport evaluate_embeddings(const Tensor& embeddings, const Tensor& labels,
                                    const EvalOptions& options) {
  const Tensor x = as_cpu_f32(embeddings, "embeddings");
  RetrievalReport report =
      retrieval_metrics(x, labels, x, labels, retrieval_options(options),
                        KnnOptions{options.metric, /*exclude_self=*/true, options.chunk_rows});
  if (!options.clustering) return report;

  const std::vector<int64_t> classes = labels.to_vector<int64_t>();
  std::vector<int64_t> distinct = classes;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  Tensor space = x;
  if (options.metric == Metric::cosine) {
    NoGradGuard no_grad;
    space = l2_normalize(x, 1);
  }
  Generator gen(options.seed);
  KMeansResult clusters =
      kmeans(space, {int64_t(distinct.size()), options.kmeans_max_iter, options.chunk_rows}, gen);
  report.metrics.emplace_back("nmi", normalized_mutual_info(classes, clusters.assignments));
  report.metrics.emplace_back("f1", pairwise_f1(classes, clusters.assignments));
  report.cluster_assignments = std::move(clusters.assignments);
  return report;
}

RetrievalReport evaluate_query_gallery(const Tensor& queries, const Tensor& query_labels,
                                       const Tensor& gallery, const Tensor& gallery_labels,
                                       const EvalOptions& options) {
  return retrieval_metrics(as_cpu_f32(queries, "queries"), query_labels,
                           as_cpu_f32(gallery, "gallery"), gallery_labels,
                           retrieval_options(options),
                           KnnOptions{options.metric, /*exclude_self=*/false, options.chunk_rows});
}

}  // namespace dml::eval
