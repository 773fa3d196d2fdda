// Entry point of bench_kernels: benchmark_main's loop plus context lines that
// say which OpenBLAS kernels and how many threads produced the numbers, since
// a GFLOP/s figure means little without them.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <omp.h>

#include <string>

namespace {

void add_thread_context() {
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
  benchmark::AddCustomContext("openblas_core", openblas_get_corename());
  benchmark::AddCustomContext("openblas_threads", std::to_string(openblas_get_num_threads()));
  benchmark::AddCustomContext("omp_max_threads", std::to_string(omp_get_max_threads()));
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  add_thread_context();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
