#include "dml/eval/clustering_metrics.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <tuple>
#include <utility>

#include "base/error.h"

namespace dml::eval {

namespace {

// A non-zero cell n_ij of the labels x clusters table with its margins.
struct Cell {
  int64_t count = 0, label_size = 0, cluster_size = 0;
};

struct Contingency {
  std::vector<Cell> cells;
  std::vector<int64_t> label_sizes;    // a_i
  std::vector<int64_t> cluster_sizes;  // b_j
  int64_t total = 0;
};

// Values mapped to 0 .. distinct - 1 (in sorted order), and each id's count.
std::pair<std::vector<int64_t>, std::vector<int64_t>> dense_ids(const std::vector<int64_t>& v) {
  std::vector<int64_t> distinct = v;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::vector<int64_t> ids(v.size()), sizes(distinct.size(), 0);
  for (size_t i = 0; i < v.size(); ++i) {
    ids[i] = std::lower_bound(distinct.begin(), distinct.end(), v[i]) - distinct.begin();
    ++sizes[size_t(ids[i])];
  }
  return {std::move(ids), std::move(sizes)};
}

Contingency contingency(const char* op, const std::vector<int64_t>& labels,
                        const std::vector<int64_t>& clusters) {
  DML_CHECK(labels.size() == clusters.size(), op, ": ", labels.size(), " labels but ",
            clusters.size(), " cluster assignments; pass one of each per sample");
  DML_CHECK(!labels.empty(), op, ": no samples");
  Contingency t;
  std::vector<int64_t> label_ids, cluster_ids;
  std::tie(label_ids, t.label_sizes) = dense_ids(labels);
  std::tie(cluster_ids, t.cluster_sizes) = dense_ids(clusters);
  std::vector<std::pair<int64_t, int64_t>> pairs(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) pairs[i] = {label_ids[i], cluster_ids[i]};
  std::sort(pairs.begin(), pairs.end());
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i == 0 || pairs[i] != pairs[i - 1])
      t.cells.push_back(
          {0, t.label_sizes[size_t(pairs[i].first)], t.cluster_sizes[size_t(pairs[i].second)]});
    ++t.cells.back().count;
  }
  t.total = int64_t(labels.size());
  return t;
}

double entropy(const std::vector<int64_t>& sizes, double total) {
  double h = 0;
  for (int64_t s : sizes) h -= double(s) / total * std::log(double(s) / total);
  return h;
}

double pairs(int64_t n) {
  return double(n) * double(n - 1) / 2;
}

}  // namespace

double normalized_mutual_info(const std::vector<int64_t>& labels,
                              const std::vector<int64_t>& clusters) {
  const Contingency t = contingency("normalized_mutual_info", labels, clusters);
  if (t.label_sizes.size() == 1 && t.cluster_sizes.size() == 1) return 1.0;
  const double n = double(t.total);
  double mi = 0;  // sum_ij n_ij / N log(N n_ij / (a_i b_j))
  for (const Cell& c : t.cells)
    mi += double(c.count) / n *
          std::log(n * double(c.count) / (double(c.label_size) * double(c.cluster_size)));
  mi = std::max(mi, 0.0);
  const double mean_entropy = (entropy(t.label_sizes, n) + entropy(t.cluster_sizes, n)) / 2;
  return mi / std::max(mean_entropy, DBL_EPSILON);
}

double pairwise_f1(const std::vector<int64_t>& labels, const std::vector<int64_t>& clusters) {
  const Contingency t = contingency("pairwise_f1", labels, clusters);
  double together = 0, same_cluster = 0, same_class = 0;
  for (const Cell& c : t.cells) together += pairs(c.count);
  for (int64_t s : t.cluster_sizes) same_cluster += pairs(s);
  for (int64_t s : t.label_sizes) same_class += pairs(s);
  const double precision = same_cluster > 0 ? together / same_cluster : 0.0;
  const double recall = same_class > 0 ? together / same_class : 0.0;
  return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}

}  // namespace dml::eval
