#include "fairness/knn_classifier.h"

#include <vector>

#include "fairness/inputs.h"

namespace dml::fairness {

Tensor knn_classify(const Tensor& train, const Tensor& train_labels, const Tensor& queries,
                    int64_t k, eval::Metric metric) {
  constexpr const char* kCaller = "knn_classify";
  const Tensor database = embedding_matrix(train, DType::f32, kCaller, /*min_rows=*/1);
  const Tensor q = embedding_matrix(queries, DType::f32, kCaller, /*min_rows=*/1);
  const std::vector<int64_t> labels =
      per_sample_ids(train_labels, database.size(0), "train_labels", kCaller);
  DML_CHECK(k >= 1 && k <= database.size(0), kCaller, ": k = ", k, " must be in [1, ",
            database.size(0), "] (the training rows); use a smaller k or more training data");
  const eval::KnnResult nearest = eval::knn(q, database, k, {metric});
  const int64_t* neighbors = nearest.indices.data<int64_t>();

  std::vector<int64_t> predicted(size_t(q.size(0)));
  std::vector<int64_t> votes_of(static_cast<size_t>(k));  // votes for the label of neighbour i
  for (int64_t row = 0; row < q.size(0); ++row) {
    const int64_t* mine = neighbors + row * k;
    // Counting by pairs is k^2 per query, cheaper than a map for the small k
    // a kNN classifier uses; the first neighbour with the most votes wins.
    size_t best = 0;
    for (int64_t i = 0; i < k; ++i) {
      votes_of[size_t(i)] = 0;
      for (int64_t j = 0; j < k; ++j)
        votes_of[size_t(i)] += labels[size_t(mine[j])] == labels[size_t(mine[i])];
      if (votes_of[size_t(i)] > votes_of[best]) best = size_t(i);
    }
    predicted[size_t(row)] = labels[size_t(mine[best])];
  }
  return from_vector(predicted, {q.size(0)});
}

}  // namespace dml::fairness
