#pragma once
// A flat loop over [0, n) split into chunks that run on OpenMP threads, each
// chunk running the active path's copy of a body (isa_dispatch.h). The body
// cannot hold the parallel region itself: GCC outlines an OpenMP region
// before it inlines, so a region inside an always-inline body would run the
// build's baseline code on every path. Hence the threads here, the path's
// code in the body.
#include <algorithm>
#include <cstdint>

#include "base/parallel.h"
#include "kernels/cpu/isa_dispatch.h"

namespace dml::cpu {

// Elements per chunk: big enough that the dispatch per chunk costs nothing,
// a multiple of every vector width so only the last chunk has a tail.
inline constexpr int64_t kIsaChunk = 8192;

// Runs kBody(begin, end, args...) over chunks of [0, n) on the path active
// now (read once), on several threads when n exceeds kParallelGrain.
template <auto kBody, class... Args>
void parallel_for_isa(int64_t n, Args... args) {
  const Isa isa = active_isa();
  const int64_t chunks = (n + kIsaChunk - 1) / kIsaChunk;
  parallel_for(
      chunks,
      [&](int64_t k) {
        const int64_t begin = k * kIsaChunk;
        run_for_isa<kBody>(isa, begin, std::min(n, begin + kIsaChunk), args...);
      },
      kParallelGrain / kIsaChunk);
}

// Whether any chunk found something: runs kBody(begin, end, &found, args...)
// as parallel_for_isa does, each chunk setting its own bool found, and ORs
// them.
template <auto kBody, class... Args>
bool parallel_any_isa(int64_t n, Args... args) {
  const Isa isa = active_isa();
  const int64_t chunks = (n + kIsaChunk - 1) / kIsaChunk;
  bool any = false;
#pragma omp parallel for schedule(static) \
    reduction(||                          \
              : any) if (chunks > kParallelGrain / kIsaChunk)
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t begin = k * kIsaChunk;
    bool found = false;
    run_for_isa<kBody>(isa, begin, std::min(n, begin + kIsaChunk), &found, args...);
    any = any || found;
  }
  return any;
}

}  // namespace dml::cpu
