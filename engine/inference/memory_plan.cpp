#include "engine/inference/memory_plan.h"

#include <algorithm>
#include <numeric>

namespace dml::inference {

namespace {

int64_t aligned(int64_t floats) {
  return (floats + kPlanAlignment - 1) / kPlanAlignment * kPlanAlignment;
}

bool alive_together(const Lifetime& a, const Lifetime& b) {
  return a.first <= b.last && b.first <= a.last;
}

}  // namespace

MemoryPlan plan_memory(const std::vector<Lifetime>& values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return values[a].floats > values[b].floats; });

  MemoryPlan plan;
  plan.offsets.assign(values.size(), 0);
  std::vector<size_t> placed;
  for (const size_t v : order) {
    // The ranges already taken while v is alive, by offset.
    std::vector<std::pair<int64_t, int64_t>> taken;
    for (const size_t p : placed)
      if (alive_together(values[v], values[p]))
        taken.emplace_back(plan.offsets[p], plan.offsets[p] + aligned(values[p].floats));
    std::sort(taken.begin(), taken.end());
    int64_t offset = 0;
    const int64_t size = aligned(values[v].floats);
    for (const auto& [begin, end] : taken) {
      if (offset + size <= begin) break;
      offset = std::max(offset, end);
    }
    plan.offsets[v] = offset;
    plan.floats = std::max(plan.floats, offset + size);
    placed.push_back(v);
  }
  return plan;
}

}  // namespace dml::inference
