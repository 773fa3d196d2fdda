// Single-precision GEMM through dml::cpu::gemm (OpenBLAS underneath). The
// largest square size is the machine's sgemm ceiling, the yardstick the
// convolution numbers are read against.
#include "bench/bench_common.h"
#include "kernels/cpu/gemm.h"

namespace {

using dml::bench::normal_buffer;

// C[m, n] = A[m, k] B[k, n], row-major, no transposes, beta = 0: the product a
// Linear layer and an im2col convolution both end in.
void BM_sgemm(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const std::vector<float> a = normal_buffer(m * k, 1), b = normal_buffer(k * n, 2);
  std::vector<float> c(size_t(m * n));
  for (auto _ : state) {
    dml::cpu::gemm<float>(false, false, m, n, k, 1.f, a.data(), k, b.data(), n, 0.f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  dml::bench::report_flops(state, 2.0 * double(m) * double(n) * double(k));
}

BENCHMARK(BM_sgemm)
    ->ArgNames({"m", "n", "k"})
    ->Args({256, 256, 256})
    ->Args({512, 512, 512})
    ->Args({1024, 1024, 1024})
    ->Args({2048, 2048, 2048})
    // Tall and skinny: a batch of rows through a narrow Linear layer.
    ->Args({4096, 64, 64})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
