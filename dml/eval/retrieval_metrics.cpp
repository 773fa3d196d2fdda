#include "dml/eval/retrieval_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>

namespace dml::eval {

namespace {

constexpr double kUnscored = std::numeric_limits<double>::quiet_NaN();

// rows < 0: any length.
std::vector<int64_t> label_vector(const Tensor& labels, const char* what, int64_t rows) {
  DML_CHECK(labels.dim() == 1 && labels.dtype() == DType::i64 && labels.device().is_cpu(),
            "retrieval metrics: ", what, " must be an i64 vector on the CPU, got ",
            describe(labels));
  DML_CHECK(rows < 0 || labels.size(0) == rows, "retrieval metrics: ", what, " has ",
            labels.size(0), " labels for ", rows, " rows; pass one label per row");
  return labels.to_vector<int64_t>();
}

double mean_of_scored(const std::vector<double>& values) {
  double sum = 0;
  int64_t count = 0;
  for (double v : values)
    if (!std::isnan(v)) {
      sum += v;
      ++count;
    }
  return count > 0 ? sum / double(count) : kUnscored;
}

// Scores each query from its neighbour list into per-query arrays. score()
// writes only query q's slots, so distinct queries may be scored concurrently.
class QueryScorer {
 public:
  QueryScorer(const RetrievalOptions& options, std::vector<int64_t> query_labels,
              std::vector<int64_t> database_labels, bool exclude_self)
      : options_(options),
        query_labels_(std::move(query_labels)),
        database_labels_(std::move(database_labels)) {
    DML_CHECK(!options.recall_ks.empty() || options.r_metrics,
              "retrieval metrics: nothing to compute (no recall_ks and r_metrics off)");
    for (size_t i = 0; i < options.recall_ks.size(); ++i) {
      const int64_t k = options.recall_ks[i];
      DML_CHECK(k >= 1, "retrieval metrics: recall@", k, " needs k >= 1");
      DML_CHECK(std::count(options.recall_ks.begin(), options.recall_ks.end(), k) == 1,
                "retrieval metrics: recall@", k, " is listed twice in recall_ks");
      max_k_ = std::max(max_k_, k);
    }
    const int64_t self = exclude_self ? 1 : 0;
    const int64_t available = int64_t(database_labels_.size()) - self;
    DML_CHECK(max_k_ <= available, "retrieval metrics: recall@", max_k_, " needs ", max_k_,
              " neighbours but the database offers ", available,
              exclude_self ? " (its own row excluded)" : "", "; use smaller recall_ks");
    std::unordered_map<int64_t, int64_t> class_size;
    for (int64_t label : database_labels_) ++class_size[label];
    relevant_.resize(query_labels_.size());
    for (size_t q = 0; q < query_labels_.size(); ++q) {
      const auto it = class_size.find(query_labels_[q]);
      relevant_[q] = it == class_size.end() ? 0 : it->second - self;
      DML_CHECK(relevant_[q] >= 0, "retrieval metrics: with exclude_self, query ", q,
                "'s label must be in the database labels at its own row");
    }
    for (int64_t k : options.recall_ks) names_.push_back("recall@" + std::to_string(k));
    names_.push_back("precision@1");
    if (options.r_metrics) {
      names_.push_back("r_precision");
      names_.push_back("map@r");
    }
    values_.assign(names_.size(), std::vector<double>(query_labels_.size(), kUnscored));
  }

  int64_t queries() const { return int64_t(query_labels_.size()); }

  // Neighbours query q needs: none when unscored.
  int64_t depth(int64_t q) const {
    const int64_t r = relevant_[size_t(q)];
    if (r == 0) return 0;
    return std::max(max_k_, options_.r_metrics ? r : 0);
  }

  void score(int64_t q, const int64_t* neighbors, int64_t count) {
    const int64_t r = relevant_[size_t(q)], need = depth(q);
    if (r == 0) return;
    DML_CHECK(count >= need, "retrieval metrics: query ", q, " has ", count,
              " neighbours but needs ", need, " (the largest recall k, or R = ", r,
              " for r_precision / map@r); search deeper or use retrieval_metrics()");
    const int64_t label = query_labels_[size_t(q)];
    int64_t first_hit = need, hits = 0, hits_in_r = 0;
    double precision_sum = 0;
    for (int64_t i = 0; i < need; ++i) {
      if (database_labels_[size_t(neighbors[i])] != label) continue;
      first_hit = std::min(first_hit, i);
      ++hits;
      if (i < r) {
        hits_in_r = hits;
        precision_sum += double(hits) / double(i + 1);
      }
    }
    size_t m = 0;
    for (int64_t k : options_.recall_ks) values_[m++][size_t(q)] = first_hit < k ? 1.0 : 0.0;
    values_[m++][size_t(q)] = first_hit == 0 ? 1.0 : 0.0;
    if (options_.r_metrics) {
      values_[m++][size_t(q)] = double(hits_in_r) / double(r);
      values_[m++][size_t(q)] = precision_sum / double(r);
    }
  }

  RetrievalReport report() && {
    RetrievalReport out;
    for (size_t m = 0; m < names_.size(); ++m) {
      out.metrics.emplace_back(names_[m], mean_of_scored(values_[m]));
      out.per_query.emplace_back(names_[m], std::move(values_[m]));
    }
    out.scored_queries =
        std::count_if(relevant_.begin(), relevant_.end(), [](int64_t r) { return r > 0; });
    out.relevant = std::move(relevant_);
    return out;
  }

 private:
  RetrievalOptions options_;
  std::vector<int64_t> query_labels_, database_labels_;
  int64_t max_k_ = 0;
  std::vector<int64_t> relevant_;
  std::vector<std::string> names_;
  std::vector<std::vector<double>> values_;  // [metric][query]
};

}  // namespace

double RetrievalReport::metric(std::string_view name) const {
  for (const auto& [n, v] : metrics)
    if (n == name) return v;
  std::string known;
  for (const auto& [n, v] : metrics) known += (known.empty() ? "" : ", ") + n;
  throw Error(detail::concat("report has no metric '", name, "'; it has: ", known));
}

const std::vector<double>& RetrievalReport::per_query_values(std::string_view name) const {
  for (const auto& [n, v] : per_query)
    if (n == name) return v;
  std::string known;
  for (const auto& [n, v] : per_query) known += (known.empty() ? "" : ", ") + n;
  throw Error(detail::concat("report has no per-query values '", name, "'; it has: ", known));
}

RetrievalReport retrieval_metrics(const Tensor& queries, const Tensor& query_labels,
                                  const Tensor& database, const Tensor& database_labels,
                                  const RetrievalOptions& options, const KnnOptions& knn) {
  DML_CHECK(queries.dim() == 2 && database.dim() == 2,
            "retrieval metrics: queries and database must be [rows, dim], got ", describe(queries),
            " and ", describe(database));
  QueryScorer scorer(options, label_vector(query_labels, "query_labels", queries.size(0)),
                     label_vector(database_labels, "database_labels", database.size(0)),
                     knn.exclude_self);
  visit_neighbors(
      queries, database, [&](int64_t q) { return scorer.depth(q); },
      [&](int64_t q, const int64_t* indices, const float*, int64_t count) {
        scorer.score(q, indices, count);
      },
      knn);
  return std::move(scorer).report();
}

RetrievalReport retrieval_metrics_from_neighbors(const Tensor& neighbor_indices,
                                                 const Tensor& query_labels,
                                                 const Tensor& database_labels, bool exclude_self,
                                                 const RetrievalOptions& options) {
  DML_CHECK(neighbor_indices.dim() == 2 && neighbor_indices.dtype() == DType::i64 &&
                neighbor_indices.device().is_cpu(),
            "retrieval metrics: neighbor_indices must be i64 [Q, k] on the CPU, got ",
            describe(neighbor_indices));
  const int64_t nq = neighbor_indices.size(0), k = neighbor_indices.size(1);
  QueryScorer scorer(options, label_vector(query_labels, "query_labels", nq),
                     label_vector(database_labels, "database_labels", -1), exclude_self);
  const int64_t* idx = neighbor_indices.data<int64_t>();
  const int64_t n = database_labels.numel();
  for (int64_t i = 0; i < nq * k; ++i)
    DML_CHECK(idx[i] >= 0 && idx[i] < n, "retrieval metrics: neighbour index ", idx[i],
              " at query ", i / k, " is outside the database's ", n, " rows");
  for (int64_t q = 0; q < nq; ++q) scorer.score(q, idx + q * k, k);
  return std::move(scorer).report();
}

std::vector<GroupMean> breakdown(const std::vector<double>& per_query_values,
                                 const std::vector<int64_t>& group_ids) {
  DML_CHECK(per_query_values.size() == group_ids.size(), "breakdown: ", per_query_values.size(),
            " per-query values but ", group_ids.size(), " group ids; pass one id per query");
  std::map<int64_t, std::pair<double, int64_t>> sums;  // ordered by group id
  for (size_t q = 0; q < group_ids.size(); ++q) {
    auto& [sum, count] = sums[group_ids[q]];
    if (std::isnan(per_query_values[q])) continue;
    sum += per_query_values[q];
    ++count;
  }
  std::vector<GroupMean> out;
  for (const auto& [group, s] : sums)
    out.push_back({group, s.second > 0 ? s.first / double(s.second) : kUnscored, s.second});
  return out;
}

}  // namespace dml::eval
