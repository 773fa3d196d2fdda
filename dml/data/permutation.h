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

// A seed for an independent stream, from a run's seed and two coordinates
// (e.g. epoch and sample position): splitmix64 finalisation of each, so
// nearby coordinates give unrelated streams.
uint64_t derive_seed(uint64_t seed, uint64_t a, uint64_t b);

}  // namespace dml::data
