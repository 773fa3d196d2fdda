#pragma once
// Multinomial logistic regression on fixed features: the linear probe of
// attribute leakage and the downstream linear classifier share it.
//
// Inputs are standardised with the training set's per-feature mean and
// standard deviation (a constant feature is only centred); the model is
// linear + softmax cross-entropy (engine autograd), weights and bias start at
// zero and are trained full-batch with Adam for a fixed number of epochs, so a
// fit is a deterministic function of its data. The loss is convex; L2 weight
// decay keeps the weights finite when the classes are separable.
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace dml::fairness {

struct LogisticOptions {
  int64_t epochs = 300;  // full-batch Adam steps
  double learning_rate = 0.05;
  double weight_decay = 1e-4;  // L2 on weight and bias, in Adam's gradient
};

struct LogisticModel {
  std::vector<int64_t> classes;  // the label values, ascending; output c is classes[c]
  Tensor mean, inv_std;          // f32 [D]: standardisation x' = (x - mean) * inv_std
  Tensor weight, bias;           // f32 [C, D], [C]
};

// features: floating [N, D]; labels: i64 [N], any values, at least two distinct.
LogisticModel fit_logistic_regression(const Tensor& features, const Tensor& labels,
                                      const LogisticOptions& options = {});

// The most probable label value of each row: i64 [N].
Tensor predict(const LogisticModel& model, const Tensor& features);

}  // namespace dml::fairness
