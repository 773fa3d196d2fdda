#pragma once
// A loop over elements or rows split into chunks that run on OpenMP threads,
// each chunk running the active path's copy of a body (isa_dispatch.h). The body
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

// Runs kBody(begin, end, args...) over chunks of the rows [0, rows), each
// row_elems elements of work, on the path active now (read once), on
// several threads when the work exceeds kParallelGrain elements.
template <auto kBody, class... Args>
void parallel_rows_isa(int64_t rows, int64_t row_elems, Args... args) {
  const Isa isa = active_isa();
  const int64_t per_chunk = std::max<int64_t>(1, kIsaChunk / std::max<int64_t>(1, row_elems));
  const int64_t chunks = (rows + per_chunk - 1) / per_chunk;
  parallel_for(
      chunks,
      [&](int64_t k) {
        const int64_t begin = k * per_chunk;
        run_for_isa<kBody>(isa, begin, std::min(rows, begin + per_chunk), args...);
      },
      kParallelGrain / (per_chunk * std::max<int64_t>(1, row_elems)));
}

// The same over the elements [0, n) of a flat loop.
template <auto kBody, class... Args>
void parallel_for_isa(int64_t n, Args... args) {
  parallel_rows_isa<kBody>(n, int64_t(1), args...);
}

// Whether any chunk found something: runs kBody(begin, end, &found, args...)
// as parallel_for_isa does, each chunk setting its own bool found, and ORs
// them.
template <auto kBody, class... Args>
bool parallel_any_isa(int64_t n, Args... args) {
  const Isa isa = active_isa();
  const int64_t chunks = (n + kIsaChunk - 1) / kIsaChunk;
  const bool threads = chunks > kParallelGrain / kIsaChunk;
  bool any = false;
#pragma omp parallel for schedule(static) reduction(|| : any) if (threads)
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t begin = k * kIsaChunk;
    bool found = false;
    run_for_isa<kBody>(isa, begin, std::min(n, begin + kIsaChunk), &found, args...);
    any = any || found;
  }
  return any;
}

}  // namespace dml::cpu
