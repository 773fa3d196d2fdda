#include "fairness/downstream.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "fairness/inputs.h"
#include "fairness/knn_classifier.h"
#include "fairness/subsets.h"

namespace dml::fairness {

namespace {

constexpr const char* kCaller = "downstream_classifiers";

// Sample indices of `among` by class, then by subgroup.
using Cells = std::map<int64_t, std::map<int64_t, std::vector<int64_t>>>;

Cells cells_of(const std::vector<int64_t>& among, const std::vector<int64_t>& labels,
               const std::vector<int64_t>& groups) {
  Cells cells;
  for (int64_t i : among) cells[labels[size_t(i)]][groups[size_t(i)]].push_back(i);
  return cells;
}

void append(std::vector<int64_t>& to, const std::vector<int64_t>& more) {
  to.insert(to.end(), more.begin(), more.end());
}

// The minority's sample count for a class of `others` non-minority samples.
int64_t minority_quota(int64_t others, int64_t available, double share) {
  if (available == 0) return 0;
  const int64_t wanted = std::llround(share / (1 - share) * double(others));
  return std::min(available, std::max<int64_t>(1, wanted));
}

// Scores predictions on the test half: accuracy overall and per subgroup
// (NaN for a subgroup with no test sample).
GroupComparison accuracy_by_group(const Subgroups& subgroups, const std::vector<int64_t>& truth,
                                  const std::vector<int64_t>& test_groups,
                                  const std::vector<int64_t>& predicted) {
  std::vector<int64_t> correct(subgroups.values.size()), total(subgroups.values.size());
  int64_t all_correct = 0;
  for (size_t p = 0; p < truth.size(); ++p) {
    const size_t g = subgroups.index_of(test_groups[p]);
    const bool hit = predicted[p] == truth[p];
    correct[g] += hit;
    all_correct += hit;
    ++total[g];
  }
  std::vector<std::vector<double>> per_group;
  for (size_t g = 0; g < total.size(); ++g)
    per_group.push_back({total[g] ? double(correct[g]) / double(total[g])
                                  : std::numeric_limits<double>::quiet_NaN()});
  return compare_groups(subgroups, {"accuracy"}, std::move(per_group),
                        {double(all_correct) / double(truth.size())});
}

}  // namespace

DownstreamSplit downstream_split(const std::vector<int64_t>& labels,
                                 const std::vector<int64_t>& groups, int64_t minority,
                                 double minority_share, uint64_t seed) {
  DML_CHECK(labels.size() == groups.size(), "downstream_split: ", labels.size(), " labels but ",
            groups.size(), " group ids; pass one of each per sample");
  DML_CHECK(minority_share > 0 && minority_share < 1,
            "downstream_split: minority_share = ", minority_share, " must be in (0, 1)");
  // One stratum per (class, subgroup) cell.
  std::map<std::pair<int64_t, int64_t>, int64_t> cell_ids;
  std::vector<int64_t> strata;
  for (size_t i = 0; i < labels.size(); ++i)
    strata.push_back(
        cell_ids.try_emplace({labels[i], groups[i]}, int64_t(cell_ids.size())).first->second);
  Generator gen(seed);
  Halves halves = stratified_halves(strata, gen);

  DownstreamSplit split;
  split.test = std::move(halves.second);
  for (const auto& [label, by_group] : cells_of(halves.first, labels, groups)) {
    const auto minority_cell = by_group.find(minority);
    const std::vector<int64_t> minority_train =
        minority_cell == by_group.end() ? std::vector<int64_t>{} : minority_cell->second;
    int64_t others = 0;
    for (const auto& [group, members] : by_group)
      if (group != minority) others += int64_t(members.size());
    const std::vector<int64_t> kept_minority =
        random_subset(minority_train,
                      minority_quota(others, int64_t(minority_train.size()), minority_share), gen);
    append(split.train_imbalanced, kept_minority);
    append(split.train_balanced, kept_minority);
    for (const auto& [group, members] : by_group) {
      if (group == minority) continue;
      append(split.train_imbalanced, members);
      append(split.train_balanced, random_subset(members, int64_t(kept_minority.size()), gen));
    }
  }
  std::sort(split.train_imbalanced.begin(), split.train_imbalanced.end());
  std::sort(split.train_balanced.begin(), split.train_balanced.end());
  return split;
}

const DownstreamResult& DownstreamReport::result(std::string_view name) const {
  std::string known;
  for (const DownstreamResult& r : results) {
    if (r.name == name) return r;
    known += (known.empty() ? "" : ", ") + r.name;
  }
  throw Error(detail::concat("downstream report has no result '", name, "'; it has: ", known));
}

DownstreamReport downstream_classifiers(const Tensor& embeddings, const Tensor& labels,
                                        const Tensor& groups, const DownstreamOptions& options) {
  const Tensor x = embedding_matrix(embeddings, DType::f32, kCaller);
  const std::vector<int64_t> classes = per_sample_ids(labels, x.size(0), "labels", kCaller);
  const std::vector<int64_t> group_ids = per_sample_ids(groups, x.size(0), "groups", kCaller);

  DML_CHECK(options.knn_k >= 1, kCaller, ": knn_k = ", options.knn_k, " must be >= 1");
  DownstreamReport report;
  report.subgroups = find_subgroups(group_ids, options.minority, kCaller, options.majority);
  report.split = downstream_split(classes, group_ids, report.subgroups.minority,
                                  options.minority_share, options.seed);
  const DownstreamSplit& split = report.split;
  DML_CHECK(!split.test.empty(), kCaller, ": the test half is empty; pass more samples");
  const Tensor test_x = rows_at(x, split.test);
  const std::vector<int64_t> truth = ids_at(classes, split.test);
  const std::vector<int64_t> test_groups = ids_at(group_ids, split.test);

  const std::pair<const char*, const std::vector<int64_t>*> training_sets[] = {
      {"imbalanced", &split.train_imbalanced}, {"balanced", &split.train_balanced}};
  for (const auto& [set_name, train] : training_sets)
    DML_CHECK(train->size() >= 2, kCaller, ": the ", set_name, " training set has ", train->size(),
              " sample(s); the train half takes floor(n / 2) of each (class, subgroup) cell, so "
              "give each class at least 2 samples of every subgroup");
  for (const char* classifier : {"logistic", "knn"}) {
    for (const auto& [set_name, train] : training_sets) {
      const Tensor train_x = rows_at(x, *train);
      const std::vector<int64_t> train_y = ids_at(classes, *train);
      const Tensor train_labels = from_vector(train_y, {int64_t(train_y.size())});
      const Tensor predicted =
          std::string_view(classifier) == "logistic"
              ? predict(fit_logistic_regression(train_x, train_labels, options.logistic), test_x)
              : knn_classify(train_x, train_labels, test_x,
                             std::min(options.knn_k, int64_t(train->size())), options.metric);
      report.results.push_back(
          {std::string(classifier) + "_" + set_name,
           accuracy_by_group(report.subgroups, truth, test_groups, predicted.to_vector<int64_t>()),
           int64_t(train->size())});
    }
  }
  return report;
}

}  // namespace dml::fairness
