#pragma once
// A seeded random permutation for shuffling a dataset each epoch. It draws
// from a dml::Generator, so a run's batch order is a pure function of the seed.
#include <cstdint>
#include <vector>

#include "engine/rng.h"

namespace dml::data {

// A uniformly random ordering of 0 .. n-1 (Fisher-Yates); advances gen by n.
std::vector<int64_t> random_permutation(int64_t n, Generator& gen);

// A uniformly random integer in [0, n); advances gen by 1.
int64_t random_index(int64_t n, Generator& gen);

}  // namespace dml::data
