#pragma once
// Attribute leakage: how well a probe recovers the sensitive attribute from
// the embedding. The samples are split 50/50 (seeded, stratified by attribute
// value); two probes learn from one half and are scored on the other by
// balanced accuracy, the mean over attribute values of the recall (the
// fraction of that value's samples predicted as it), so a skewed attribute
// cannot score above chance by always answering the majority. Chance is
// 1 / the number of values.
//
// The linear probe is a multinomial logistic regression
// (fairness/logistic_regression.h); the non-linear one a k-NN majority vote
// (knn_classifier.h). Together they tell "information removed" from
// "correlation removed": an embedding whose attribute the linear probe no
// longer finds but k-NN still does keeps the information in a non-linear
// form.
#include <cstdint>
#include <vector>

#include "dml/eval/knn.h"
#include "engine/tensor.h"
#include "fairness/logistic_regression.h"

namespace dml::fairness {

struct LeakageOptions {
  uint64_t seed = 0;  // the split
  LogisticOptions probe{};
  int64_t knn_k = 10;                             // at most the training half's size (fewer then)
  eval::Metric metric = eval::Metric::euclidean;  // the k-NN probe's distance
};

struct LeakageResult {
  double balanced_accuracy = 0;  // the linear probe's
  double knn_balanced_accuracy = 0;
  int64_t knn_k = 0;
  double chance = 0;
  std::vector<int64_t> values;  // attribute values, ascending
  std::vector<double> recall;   // the linear probe's, per value, on the scoring half
  int64_t train_count = 0, test_count = 0;
};

// embeddings: floating [N, D]; attribute: i64 [N]. Every attribute value needs
// at least two samples (one per half), and there must be at least two values.
LeakageResult attribute_leakage(const Tensor& embeddings, const Tensor& attribute,
                                const LeakageOptions& options = {});

}  // namespace dml::fairness
