#pragma once
// Subsets of samples: seeded splits that keep every stratum's proportions
// (the probe's 50/50 split, stratified by attribute value; the downstream
// train/test halves, stratified by class and subgroup), seeded subsampling,
// and taking a subset's rows or ids.
#include <cstdint>
#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace dml::fairness {

struct Halves {
  std::vector<int64_t> first, second;  // sample indices, ascending
};

// Each stratum's members (samples with the same id, in any order) are
// shuffled; the first floor(m / 2) go to `first`, the other ceil(m / 2) to
// `second`. Strata are visited in ascending id, each drawing from gen.
Halves stratified_halves(const std::vector<int64_t>& strata, Generator& gen);

// `count` of `indices` chosen uniformly without replacement (all of them when
// count >= their number), ascending.
std::vector<int64_t> random_subset(const std::vector<int64_t>& indices, int64_t count,
                                   Generator& gen);

// The rows of x (any tensor, along dim 0) and the ids at `indices`, in order.
Tensor rows_at(const Tensor& x, const std::vector<int64_t>& indices);
std::vector<int64_t> ids_at(const std::vector<int64_t>& ids, const std::vector<int64_t>& indices);

}  // namespace dml::fairness
