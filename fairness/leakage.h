#pragma once
// Attribute leakage: how well a linear probe recovers the sensitive attribute
// from the embedding. The samples are split 50/50 (seeded, stratified by
// attribute value); a multinomial logistic regression
// (fairness/logistic_regression.h) is fitted on one half and scored on the
// other by balanced accuracy, the mean over attribute values of the recall
// (the fraction of that value's samples predicted as it), so a skewed
// attribute cannot score above chance by always answering the majority.
// Chance is 1 / the number of values.
#include <cstdint>
#include <vector>

#include "engine/tensor.h"
#include "fairness/logistic_regression.h"

namespace dml::fairness {

struct LeakageOptions {
  uint64_t seed = 0;  // the split
  LogisticOptions probe{};
};

struct LeakageResult {
  double balanced_accuracy = 0;
  double chance = 0;
  std::vector<int64_t> values;  // attribute values, ascending
  std::vector<double> recall;   // per value, on the scoring half
  int64_t train_count = 0, test_count = 0;
};

// embeddings: floating [N, D]; attribute: i64 [N]. Every attribute value needs
// at least two samples (one per half), and there must be at least two values.
LeakageResult attribute_leakage(const Tensor& embeddings, const Tensor& attribute,
                                const LeakageOptions& options = {});

}  // namespace dml::fairness
