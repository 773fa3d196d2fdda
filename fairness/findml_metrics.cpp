#include "fairness/findml_metrics.h"

#include "dml/eval/evaluate.h"
#include "engine/autograd.h"
#include "engine/ops.h"
#include "fairness/alignment.h"
#include "fairness/inputs.h"
#include "fairness/subsets.h"

namespace dml::fairness {

namespace {

constexpr const char* kCaller = "findml_metrics";

GroupComparison retrieval_by_group(const Tensor& x, const std::vector<int64_t>& labels,
                                   const std::vector<int64_t>& group_ids,
                                   const Subgroups& subgroups, const FinDmlOptions& options,
                                   std::vector<std::vector<double>>& per_query) {
  eval::EvalOptions eval_options;
  eval_options.metric = options.metric;
  eval_options.recall_ks = options.recall_ks;
  eval_options.r_metrics = true;
  eval_options.clustering = false;
  const eval::RetrievalReport report =
      eval::evaluate_embeddings(x, from_vector(labels, {int64_t(labels.size())}), eval_options);

  std::vector<std::string> names;
  for (int64_t k : options.recall_ks) names.push_back("recall@" + std::to_string(k));
  names.push_back("map@r");
  names.push_back("r_precision");
  std::vector<double> overall;
  std::vector<std::vector<double>> per_group(subgroups.values.size());
  for (const std::string& name : names) {
    overall.push_back(report.metric(name));
    per_query.push_back(report.per_query_values(name));
    // breakdown lists groups by ascending id, as Subgroups does, and lists
    // every id it is given (NaN when none of its queries is scored).
    const std::vector<eval::GroupMean> means =
        eval::breakdown(report.per_query_values(name), group_ids);
    for (size_t g = 0; g < means.size(); ++g) per_group[g].push_back(means[g].mean);
  }
  return compare_groups(subgroups, std::move(names), std::move(per_group), std::move(overall));
}

GroupComparison alignment_by_group(const Tensor& x, const std::vector<int64_t>& labels,
                                   const std::vector<int64_t>& group_ids,
                                   const Subgroups& subgroups, const FinDmlOptions& options,
                                   bool& sampled) {
  NoGradGuard no_grad;
  const Tensor space = options.metric == eval::Metric::cosine ? l2_normalize(x, 1) : x;
  Generator gen(options.seed);
  std::vector<std::vector<double>> per_group;
  sampled = false;
  for (int64_t value : subgroups.values) {
    std::vector<int64_t> rows;
    for (size_t i = 0; i < group_ids.size(); ++i)
      if (group_ids[i] == value) rows.push_back(int64_t(i));
    const AlignmentStats stats = alignment_stats(rows_at(space, rows), ids_at(labels, rows),
                                                 options.t, options.max_pairs, gen);
    sampled = sampled || stats.sampled;
    per_group.push_back({stats.intra_class, stats.inter_class, stats.uniformity});
  }
  return compare_groups(subgroups, {"intra_class", "inter_class", "uniformity"},
                        std::move(per_group));
}

}  // namespace

FinDmlReport findml_metrics(const Tensor& embeddings, const Tensor& labels, const Tensor& groups,
                            const FinDmlOptions& options) {
  DML_CHECK(options.t > 0, kCaller, ": uniformity temperature t = ", options.t, " must be > 0");
  DML_CHECK(options.max_pairs >= 1, kCaller, ": max_pairs = ", options.max_pairs, " must be >= 1");
  const Tensor x = embedding_matrix(embeddings, DType::f64, kCaller);
  const int64_t n = x.size(0);
  const std::vector<int64_t> classes = per_sample_ids(labels, n, "labels", kCaller);
  const std::vector<int64_t> group_ids = per_sample_ids(groups, n, "groups", kCaller);

  FinDmlReport report;
  report.attribute = options.attribute;
  report.value_names = options.value_names;
  report.subgroups = find_subgroups(group_ids, options.minority, kCaller, options.majority);
  report.max_pairs = options.max_pairs;
  report.retrieval =
      retrieval_by_group(embedding_matrix(embeddings, DType::f32, kCaller), classes, group_ids,
                         report.subgroups, options, report.retrieval_per_query);
  report.alignment =
      alignment_by_group(x, classes, group_ids, report.subgroups, options, report.sampled);
  return report;
}

}  // namespace dml::fairness
