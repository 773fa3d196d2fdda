#pragma once
// Where each intermediate value of a program lives in one arena: values whose
// lifetimes overlap get disjoint ranges, the others may share, so the arena
// holds about the largest set of values alive at once rather than all of them.
#include <cstdint>
#include <vector>

namespace dml::inference {

// A value of `floats` floats, written by step `first` and last read by step
// `last` (first <= last): it is alive during steps [first, last].
struct Lifetime {
  int64_t floats;
  int64_t first, last;
};

struct MemoryPlan {
  std::vector<int64_t> offsets;  // per value, in floats, multiples of kPlanAlignment
  int64_t floats = 0;            // the arena's size
};

// 64-byte boundaries: every value starts on its own cache line.
constexpr int64_t kPlanAlignment = 16;

// Greedy by size: the largest value first, each at the lowest offset where it
// overlaps no placed value alive at the same time.
MemoryPlan plan_memory(const std::vector<Lifetime>& values);

}  // namespace dml::inference
