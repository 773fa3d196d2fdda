#pragma once
// OpenMP loop over [0, n) that stays serial for small n, where thread start-up
// costs more than the work.
#include <cstdint>

namespace dml {

constexpr int64_t kParallelGrain = 32768;

template <class F>
void parallel_for(int64_t n, F&& body, int64_t grain = kParallelGrain) {
#pragma omp parallel for schedule(static) if (n > grain)
  for (int64_t i = 0; i < n; ++i) body(i);
}

}  // namespace dml
