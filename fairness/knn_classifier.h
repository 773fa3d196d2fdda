#pragma once
// k-nearest-neighbour classification on fixed features: each query takes the
// label most common among its k nearest training rows (exact search,
// dml/eval/knn.h). A tied vote goes to the tied label whose nearest member
// ranks first, i.e. the nearer evidence wins.
#include <cstdint>

#include "dml/eval/knn.h"
#include "engine/tensor.h"

namespace dml::fairness {

// train: floating [N, D]; train_labels: i64 [N]; queries: floating [Q, D];
// 1 <= k <= N. Returns i64 [Q] predicted labels.
Tensor knn_classify(const Tensor& train, const Tensor& train_labels, const Tensor& queries,
                    int64_t k, eval::Metric metric);

}  // namespace dml::fairness
