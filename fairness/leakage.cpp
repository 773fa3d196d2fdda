#include "fairness/leakage.h"

#include <map>

#include "fairness/inputs.h"
#include "fairness/subsets.h"

namespace dml::fairness {

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
  const LogisticModel probe = fit_logistic_regression(
      rows_at(x, halves.first), from_vector(train_values, {int64_t(train_values.size())}),
      options.probe);
  const std::vector<int64_t> predicted =
      predict(probe, rows_at(x, halves.second)).to_vector<int64_t>();

  // value -> (correct, total) on the scoring half.
  std::map<int64_t, std::pair<int64_t, int64_t>> hits;
  for (size_t p = 0; p < halves.second.size(); ++p) {
    auto& [correct, total] = hits[values[size_t(halves.second[p])]];
    correct += predicted[p] == values[size_t(halves.second[p])];
    ++total;
  }
  LeakageResult result;
  for (const auto& [value, h] : hits) {
    result.values.push_back(value);
    result.recall.push_back(double(h.first) / double(h.second));
    result.balanced_accuracy += result.recall.back();
  }
  result.balanced_accuracy /= double(result.values.size());
  result.chance = 1.0 / double(result.values.size());
  result.train_count = int64_t(halves.first.size());
  result.test_count = int64_t(halves.second.size());
  return result;
}

}  // namespace dml::fairness
