#pragma once
// Building blocks the losses share: the checks on a batch's class labels,
// the geometry of a batch (and, for proxy losses, of embeddings against class
// rows), picking matrix entries for index lists, triangular and per-anchor
// masks, masked log-sum-exp, and the reductions. All are compositions of engine ops, so the
// losses get their gradients from autograd.
#include <cstdint>
#include <vector>

#include "dml/losses/anchored_loss.h"
#include "dml/losses/loss.h"
#include "dml/miners/geometry.h"
#include "dml/miners/tuples.h"
#include "engine/tensor.h"

namespace dml::losses {

// The unit-sphere geometry of most DML losses, shared with the miners.
using miners::cosine_similarities;
using miners::index_tensor;
using miners::sphere_distances;
using miners::sphere_similarities;

// The rows `rows` of sphere_distances(e) / sphere_similarities(e), [rows, B],
// computed for those rows alone: a few anchors against many candidates cost
// O(rows B D), not O(B^2 D). All the rows give the whole matrix, exactly.
Tensor sphere_distances(const Tensor& e, AnchorRows rows);
Tensor sphere_similarities(const Tensor& e, AnchorRows rows);

// Throws unless every label lies in [0, num_classes): what a loss with one
// learnable row (proxy, weight, beta) per training class needs. Errors name
// `who`, the label and its batch index.
void check_class_labels(const miners::Labels& labels, int64_t num_classes, const char* who);

// [n, n] with ones where column - row >= offset and zeros elsewhere (numpy's
// triu of a ones matrix): offset 0 keeps the diagonal, 1 leaves it out.
Tensor upper_triangle(int64_t n, int64_t offset, DType dtype, Device device);

// The entries m[rows[i], cols[i]] of a [B, B] matrix, as a [count] tensor;
// m may hold the matrix's rows from `first_row` on alone.
Tensor pick(const Tensor& m, const std::vector<int64_t>& rows, const std::vector<int64_t>& cols,
            int64_t first_row = 0);

// A zero scalar that depends on the embeddings and every parameter of the
// loss, so backward() still runs and writes zero gradients: the value of a
// loss on a batch without a single valid tuple.
Tensor zero_loss(const Tensor& embeddings, const Loss& loss);

// #{v > 0}: how many hinge terms are active, as an f64 scalar on v's device
// (no gradient). It stays there, so a GPU step does not wait to read it.
Tensor count_positive(const Tensor& v);

// 1 / max(count, 1) in `dtype`, for a count from count_positive: multiplying
// by it divides by the count exactly as `x / double(n)` does (the reciprocal
// taken in f64, then rounded once to dtype).
Tensor inverse_count(const Tensor& count, DType dtype);

// sum(v) / max(#{v > 0}, 1): the mean over the terms that are still active
// (a hinge above zero), PML's AvgNonZeroReducer. 0 for an empty v.
Tensor mean_of_positive(const Tensor& v);

// log(1 + exp(z)) without overflow and without a threshold switch.
Tensor log1p_exp(const Tensor& z);

// Per-anchor view of a pair set anchored in rows `rows` of a batch of
// `batch`: pos[a - rows.begin, b] = 1 when (a, b) is a positive pair
// (likewise neg); an anchor takes part when it has at least one of each.
struct AnchorMasks {
  Tensor pos, neg;  // u8 [rows, B]
  Tensor valid;     // u8 [rows]
  int64_t num_valid = 0;
};
AnchorMasks anchor_masks(const miners::Pairs& pairs, AnchorRows rows, int64_t batch, Device device);

// log sum_j exp(x[i, j]) over the j with mask[i, j] set (plus a zero term,
// giving log(1 + sum), when add_one). A row with no entry yields a finite
// value of no meaning and no NaN in its gradient; callers leave such rows
// out with `where`.
Tensor masked_logsumexp(const Tensor& x, const Tensor& mask, bool add_one);

// sum over the valid anchors of per_anchor [rows] (the others contribute
// nothing, gradient included).
Tensor sum_over_valid(const Tensor& per_anchor, const AnchorMasks& masks);

}  // namespace dml::losses
