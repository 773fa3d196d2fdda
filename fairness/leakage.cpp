#include "fairness/leakage.h"

#include <algorithm>
#include <map>

#include "fairness/inputs.h"
#include "fairness/knn_classifier.h"
#include "fairness/subsets.h"

namespace dml::fairness {

namespace {

// Recall per attribute value of predictions on the scoring rows, ascending
// values.
std::map<int64_t, double> recall_per_value(const std::vector<int64_t>& predicted,
                                           const std::vector<int64_t>& values,
                                           const std::vector<int64_t>& rows) {
  std::map<int64_t, std::pair<int64_t, int64_t>> hits;  // value -> (correct, total)
  for (size_t p = 0; p < rows.size(); ++p) {
    auto& [correct, total] = hits[values[size_t(rows[p])]];
    correct += predicted[p] == values[size_t(rows[p])];
    ++total;
  }
  std::map<int64_t, double> out;
  for (const auto& [value, h] : hits) out[value] = double(h.first) / double(h.second);
  return out;
}

double mean_of(const std::map<int64_t, double>& recall) {
  double sum = 0;
  for (const auto& [value, r] : recall) sum += r;
  return sum / double(recall.size());
}

}  // namespace

LeakageResult attribute_leakage(const Tensor& embeddings, const Tensor& attribute,
                                const LeakageOptions& options) {
  constexpr const char* kCaller = "attribute_leakage";
  const Tensor x = embedding_matrix(embeddings, DType::f32, kCaller);
  const std::vector<int64_t> values = per_sample_ids(attribute, x.size(0), "attribute", kCaller);
  std::map<int64_t, int64_t> count_of;
  for (int64_t v : values) ++count_of[v];
  DML_CHECK(count_of.size() >= 2, kCaller, ": the attribute has ", count_of.size(),
            " value(s); the probe needs at least two");
  for (const auto& [value, count] : count_of)
    DML_CHECK(count >= 2, kCaller, ": attribute value ", value, " has ", count,
              " sample(s); the probe needs at least 2 per value (one per half)");

  Generator gen(options.seed);
  const Halves halves = stratified_halves(values, gen);
  const std::vector<int64_t> train_values = ids_at(values, halves.first);
  const Tensor train_x = rows_at(x, halves.first), test_x = rows_at(x, halves.second);
  const Tensor train_y = from_vector(train_values, {int64_t(train_values.size())});
  const LogisticModel probe = fit_logistic_regression(train_x, train_y, options.probe);

  LeakageResult result;
  const std::map<int64_t, double> linear =
      recall_per_value(predict(probe, test_x).to_vector<int64_t>(), values, halves.second);
  for (const auto& [value, r] : linear) {
    result.values.push_back(value);
    result.recall.push_back(r);
  }
  result.balanced_accuracy = mean_of(linear);
  result.knn_k = std::min<int64_t>(options.knn_k, int64_t(halves.first.size()));
  result.knn_balanced_accuracy = mean_of(recall_per_value(
      knn_classify(train_x, train_y, test_x, result.knn_k, options.metric).to_vector<int64_t>(),
      values, halves.second));
  result.chance = 1.0 / double(result.values.size());
  result.train_count = int64_t(halves.first.size());
  result.test_count = int64_t(halves.second.size());
  return result;
}

}  // namespace dml::fairness
