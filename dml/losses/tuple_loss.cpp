#include "dml/losses/tuple_loss.h"

#include <type_traits>

namespace dml::losses {

template <class Tuples>
Tensor TupleBasedLoss<Tuples>::forward(const Tensor& embeddings, const Tensor& labels,
                                       const miners::MinedTuples* mined) {
  return on(embeddings, labels, mined, {0, embeddings.dim() > 0 ? embeddings.size(0) : 0});
}

template <class Tuples>
Tensor TupleBasedLoss<Tuples>::forward_anchored(const Tensor& embeddings, const Tensor& labels,
                                                const miners::MinedTuples& tuples, int64_t begin,
                                                int64_t end) {
  return on(embeddings, labels, &tuples, {begin, end});
}

template <class Tuples>
Tensor TupleBasedLoss<Tuples>::on(const Tensor& embeddings, const Tensor& labels,
                                  const miners::MinedTuples* mined, AnchorRows rows) {
  const miners::Labels y = miners::batch_labels(embeddings, labels, name_);
  if constexpr (std::is_same_v<Tuples, miners::Pairs>)
    return tuple_loss(embeddings, y, miners::pairs_for(y, mined, name_), rows);
  else
    return tuple_loss(embeddings, y, miners::triplets_for(y, mined, name_), rows);
}

template class TupleBasedLoss<miners::Pairs>;
template class TupleBasedLoss<miners::Triplets>;

}  // namespace dml::losses
