#pragma once
// Agreement between class labels and cluster assignments, both computed from
// the contingency table (never by enumerating pairs).
//
// NMI: mutual information over the arithmetic mean of the two entropies, as
// sklearn's normalized_mutual_info_score default (average_method
// "arithmetic"), with its limit cases: 1 when both labelings have a single
// value, and the normaliser floored at float64 epsilon.
//
// F1: the pairwise F-measure of the DML literature (Oh Song et al. 2016,
// "Deep Metric Learning via Lifted Structured Feature Embedding"; Roth et al.
// 2020's code): over unordered pairs of samples, precision = pairs in one
// cluster and one class / pairs in one cluster, recall = the same / pairs in
// one class, F1 = 2PR / (P + R). A ratio whose denominator is 0 (no two
// samples share a cluster, or a class) counts as 0, and so does F1 when
// P + R = 0.
#include <cstdint>
#include <vector>

namespace dml::eval {

double normalized_mutual_info(const std::vector<int64_t>& labels,
                              const std::vector<int64_t>& clusters);
double pairwise_f1(const std::vector<int64_t>& labels, const std::vector<int64_t>& clusters);

}  // namespace dml::eval
