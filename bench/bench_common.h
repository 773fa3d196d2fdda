#pragma once
// Shared by the kernel benchmarks: deterministic f32 inputs and the two
// throughput counters every benchmark reports.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "kernels/cpu/random.h"

namespace dml::bench {

// n standard-normal floats from a fixed Philox seed: identical inputs on every
// run and for every thread count, so timings compare like with like.
inline std::vector<float> normal_buffer(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  dml::cpu::fill_normal<float>(v.data(), n, seed, 0);
  return v;
}

// `flops` floating-point operations per iteration, reported per second of
// wall time (the benchmarks use real time: the kernels run on several threads).
inline void report_flops(benchmark::State& state, double flops) {
  state.counters["FLOP/s"] =
      benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

// `bytes` read plus written per iteration, reported per second of wall time.
inline void report_bytes(benchmark::State& state, double bytes) {
  state.counters["B/s"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace dml::bench
