#pragma once
// Downstream classifiers on frozen embeddings of the held-out classes: does a
// classifier trained on top of the embedding serve every subgroup equally,
// and does re-balancing its training data close the gap?
//
// The split (downstream_split): the samples are halved per (class, subgroup)
// cell, seeded: floor(m / 2) to train, the rest to test. Two training sets
// come from the train half:
//   imbalanced  per class, all non-minority samples and the minority
//               subsampled to minority_share of the class:
//               round(share / (1 - share) * non-minority count), at least 1
//               when the class has any, at most what there is;
//   balanced    the imbalanced set with each non-minority subgroup of a class
//               subsampled to the class's minority count (a class with no
//               minority sample drops out).
// The classifiers: multinomial logistic regression
// (logistic_regression.h) and k-NN majority vote (knn_classifier.h), each
// trained on both sets and scored on the whole test half: overall accuracy,
// accuracy per subgroup and the gaps (groups.h).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dml/eval/knn.h"
#include "engine/tensor.h"
#include "fairness/groups.h"
#include "fairness/logistic_regression.h"

namespace dml::fairness {

struct DownstreamOptions {
  int64_t minority = kSmallestGroup;  // attribute value, or -1 for the smallest subgroup
  int64_t majority = kLargestGroup;   // attribute value, or -1 for the largest other subgroup
  double minority_share = 0.05;       // of each class in the imbalanced set; in (0, 1)
  eval::Metric metric = eval::Metric::euclidean;  // the kNN classifier's distance
  int64_t knn_k = 5;  // at most the training set's size (a small balanced set votes with all)
  LogisticOptions logistic{};
  uint64_t seed = 0;  // the split and the subsampling
};

struct DownstreamSplit {
  std::vector<int64_t> test, train_imbalanced, train_balanced;  // sample indices, ascending
};

// labels, groups: class and attribute value of each sample.
DownstreamSplit downstream_split(const std::vector<int64_t>& labels,
                                 const std::vector<int64_t>& groups, int64_t minority,
                                 double minority_share, uint64_t seed);

struct DownstreamResult {
  std::string name;          // "<classifier>_<training set>", e.g. "knn_balanced"
  GroupComparison accuracy;  // one metric, "accuracy", with overall
  int64_t train_count = 0;
};

struct DownstreamReport {
  Subgroups subgroups;
  DownstreamSplit split;
  // logistic_imbalanced, logistic_balanced, knn_imbalanced, knn_balanced
  std::vector<DownstreamResult> results;

  // The result named `name`; throws dml::Error naming the ones present.
  const DownstreamResult& result(std::string_view name) const;
};

// embeddings: floating [N, D]; labels, groups: i64 [N].
DownstreamReport downstream_classifiers(const Tensor& embeddings, const Tensor& labels,
                                        const Tensor& groups, const DownstreamOptions& options);

}  // namespace dml::fairness
