#pragma once
// Shared by the kernel benchmarks: deterministic inputs (bench_data.h) and
// the two throughput counters every benchmark reports.
#include <benchmark/benchmark.h>

#include "bench/bench_data.h"

namespace dml::bench {

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
