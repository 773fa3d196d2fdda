// The machine's peak per instruction-set path and the GEMM's rate as a
// fraction of it. First the peak of each path's product instruction
// (bench/peak_flops.h: f32 FMA on ymm and zmm, AVX512-BF16 VDPBF16PS, AMX
// TDPBF16PS) on one thread and on all; an instruction this CPU lacks prints
// "not on this CPU". Then dml::cpu::gemm<float> under ScopedIsa avx2 and
// avx512, and gemm<bf16> under avx512_bf16 and amx where the CPU has them, on
// a square product and two ResNet-50 convolutions' products (per image, as
// the im2col convolution calls it: m = output channels, n = output pixels,
// k = input channels x kernel area), on one thread and on all: GFLOP/s and the
// share of that path's peak on as many threads. Prints a table, then one
// JSON line with every figure.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "base/dtype.h"
#include "base/error.h"
#include "bench/bench_data.h"
#include "bench/peak_flops.h"
#include "bench/run_timing.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa.h"

namespace {

using namespace dml;
using bench::PeakOp;
using bench::PeakRate;
using cpu::Isa;

struct GemmShape {
  std::string name;
  int64_t m, n, k;
};

// C = A B, row-major, no transposes (the convolution's product), beta 0.
template <class T>
double gemm_seconds(const GemmShape& s, int reps) {
  const std::vector<T> a = bench::normal_buffer<T>(s.m * s.k, 1);
  const std::vector<T> b = bench::normal_buffer<T>(s.k * s.n, 2);
  std::vector<T> c(size_t(s.m * s.n));
  return bench::median(bench::time_reps(reps, [&] {
    cpu::gemm<T>(false, false, s.m, s.n, s.k, 1.f, a.data(), s.k, b.data(), s.n, 0.f, c.data(),
                 s.n);
  }));
}

struct GemmPath {
  Isa isa;
  bool bf16;
};
constexpr GemmPath kGemmPaths[] = {
    {Isa::avx2, false}, {Isa::avx512, false}, {Isa::avx512_bf16, true}, {Isa::amx, true}};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Peak FLOP/s per instruction-set path, and the GEMM's share of it"};
  double min_seconds = 0.2;
  int reps = 5;
  std::vector<std::string> shape_args;
  app.add_option("--min-time", min_seconds, "Seconds each peak loop runs at least")
      ->capture_default_str();
  app.add_option("--reps", reps, "Timed GEMM calls (the median is kept)")->capture_default_str();
  app.add_option("--shape", shape_args, "GEMM shapes MxNxK instead of the default three");
  CLI11_PARSE(app, argc, argv);
  try {
    std::vector<GemmShape> shapes = {{"square", 1024, 1024, 1024},
                                     {"resnet50 3x3 conv3_x", 128, 28 * 28, 128 * 9},
                                     {"resnet50 1x1 expand conv4_x", 1024, 14 * 14, 256}};
    if (!shape_args.empty()) shapes.clear();
    for (const std::string& arg : shape_args) {
      GemmShape s{arg, 0, 0, 0};
      DML_CHECK(std::sscanf(arg.c_str(), "%ldx%ldx%ld", &s.m, &s.n, &s.k) == 3 && s.m > 0 &&
                    s.n > 0 && s.k > 0,
                "--shape '", arg, "': expected MxNxK with positive sizes");
      shapes.push_back(s);
    }
    const int threads = omp_get_max_threads();
    std::printf("CPU path: %s, %d OpenMP threads\n", cpu::isa_name(cpu::cpu_isa()), threads);
    std::printf("Peak, best of 3 loops of register-only instructions (GFLOP/s)\n");
    std::printf("%-15s %-12s %12s %10s %10s\n", "instruction", "path", "flops/instr", "1 thread",
                "all");
    std::string json = "{\"bench\": \"peak\", \"cpu_isa\": \"" +
                       std::string(cpu::isa_name(cpu::cpu_isa())) +
                       "\", \"threads\": " + std::to_string(threads) + ", \"peaks\": [";
    std::vector<std::optional<PeakRate>> peaks;
    for (PeakOp op : bench::kAllPeakOps) {
      std::printf("%-15s %-12s %12.0f ", bench::peak_op_name(op),
                  cpu::isa_name(bench::peak_op_isa(op)), bench::flops_per_instruction(op));
      json += std::string(peaks.empty() ? "" : ", ") + "{\"op\": \"" + bench::peak_op_name(op) +
              "\", \"path\": \"" + cpu::isa_name(bench::peak_op_isa(op)) + "\", ";
      if (!bench::peak_op_available(op)) {
        std::printf("%21s\n", "not on this CPU");
        json += "\"available\": false}";
        peaks.push_back(std::nullopt);
        continue;
      }
      const PeakRate rate = bench::measure_peak(op, min_seconds);
      std::printf("%10.1f %10.1f\n", rate.one_thread_gflops, rate.all_threads_gflops);
      json +=
          "\"available\": true, \"one_thread_gflops\": " + std::to_string(rate.one_thread_gflops) +
          ", \"all_threads_gflops\": " + std::to_string(rate.all_threads_gflops) + "}";
      peaks.push_back(rate);
      std::fflush(stdout);
    }
    json += "], \"gemm\": [";

    std::printf("\nGEMM C = A B (median of %d calls) and its share of the path's peak\n", reps);
    std::printf("%-12s %-5s %-28s %16s %7s %9s %8s\n", "path", "dtype", "shape", "m x n x k",
                "threads", "GFLOP/s", "of peak");
    bool first = true;
    for (const GemmPath& path : kGemmPaths) {
      if (!cpu::isa_built(path.isa) || cpu::cpu_isa() < path.isa) {
        std::printf("%-12s %-5s not on this CPU\n", cpu::isa_name(path.isa),
                    path.bf16 ? "bf16" : "f32");
        continue;
      }
      const cpu::ScopedIsa scoped(path.isa);
      const std::optional<PeakOp> op = bench::peak_op_for(path.isa, path.bf16);
      const std::optional<PeakRate>& peak = peaks[size_t(*op)];
      for (const GemmShape& s : shapes) {
        for (int t : {1, threads}) {
          omp_set_num_threads(t);
          const double seconds =
              path.bf16 ? gemm_seconds<bf16>(s, reps) : gemm_seconds<float>(s, reps);
          omp_set_num_threads(threads);
          const double gflops = 2.0 * double(s.m) * double(s.n) * double(s.k) / seconds * 1e-9;
          const double of_peak =
              gflops / (t == 1 ? peak->one_thread_gflops : peak->all_threads_gflops);
          const std::string dims =
              std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k);
          std::printf("%-12s %-5s %-28s %16s %7d %9.1f %7.0f%%\n", cpu::isa_name(path.isa),
                      path.bf16 ? "bf16" : "f32", s.name.c_str(), dims.c_str(), t, gflops,
                      100 * of_peak);
          std::fflush(stdout);
          json += std::string(first ? "" : ", ") + "{\"path\": \"" + cpu::isa_name(path.isa) +
                  "\", \"dtype\": \"" + (path.bf16 ? "bf16" : "f32") + "\", \"shape\": \"" +
                  s.name + "\", \"m\": " + std::to_string(s.m) + ", \"n\": " + std::to_string(s.n) +
                  ", \"k\": " + std::to_string(s.k) + ", \"threads\": " + std::to_string(t) +
                  ", \"gflops\": " + std::to_string(gflops) +
                  ", \"of_peak\": " + std::to_string(of_peak) + "}";
          first = false;
        }
      }
    }
    std::printf("%s]}\n", json.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "peak_bench: error: %s\n", e.what());
    return 1;
  }
}
