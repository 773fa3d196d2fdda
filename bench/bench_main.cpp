// Entry point of bench_kernels: benchmark_main's loop plus context lines that
// say which CPU path, OpenBLAS kernels and how many threads produced the
// numbers, since a GFLOP/s figure means little without them.
#include <benchmark/benchmark.h>
#if defined(DML_WITH_OPENBLAS)
#include <cblas.h>
#endif
#include <omp.h>

#include <string>

#include "kernels/cpu/isa.h"

namespace {

void add_thread_context() {
#if defined(DML_WITH_OPENBLAS)
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
  benchmark::AddCustomContext("openblas_core", openblas_get_corename());
  benchmark::AddCustomContext("openblas_threads", std::to_string(openblas_get_num_threads()));
#endif
  benchmark::AddCustomContext("cpu_isa", dml::cpu::isa_name(dml::cpu::active_isa()));
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
