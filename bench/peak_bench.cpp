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
#include <cinttypes>
#include <cstdio>
#include <map>
#include <optional>
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
double gemm_seconds(const GemmShape& s, int reps, bench::Clock clock) {
  const std::vector<T> a = bench::normal_buffer<T>(s.m * s.k, 1);
  const std::vector<T> b = bench::normal_buffer<T>(s.k * s.n, 2);
  std::vector<T> c(size_t(s.m * s.n));
  return bench::median_seconds(
      reps,
      [&] {
        cpu::gemm<T>(false, false, s.m, s.n, s.k, 1.f, a.data(), s.k, b.data(), s.n, 0.f, c.data(),
                     s.n);
      },
      clock);
}

struct GemmPath {
  Isa isa;
  bool bf16;
};
constexpr GemmPath kGemmPaths[] = {
    {Isa::avx2, false}, {Isa::avx512, false}, {Isa::avx512_bf16, true}, {Isa::amx, true}};

GemmShape parse_shape(const std::string& arg) {
  GemmShape s{arg, 0, 0, 0};
  DML_CHECK(std::sscanf(arg.c_str(), "%" SCNd64 "x%" SCNd64 "x%" SCNd64, &s.m, &s.n, &s.k) == 3 &&
                s.m > 0 && s.n > 0 && s.k > 0,
            "--shape '", arg, "': expected MxNxK with positive sizes");
  return s;
}

// Each instruction's peak, or none where the CPU lacks it; printed, and
// appended to `json` as a list.
std::map<PeakOp, std::optional<PeakRate>> measure_peaks(double min_seconds, std::string& json) {
  std::printf("Peak, best of 3 loops of register-only instructions (GFLOP/s)\n");
  std::printf("%-15s %-12s %12s %10s %10s\n", "instruction", "path", "flops/instr", "1 thread",
              "all");
  std::map<PeakOp, std::optional<PeakRate>> peaks;
  json += "[";
  for (PeakOp op : bench::kAllPeakOps) {
    const char* path = cpu::isa_name(bench::peak_op_isa(op));
    std::printf("%-15s %-12s %12.0f ", bench::peak_op_name(op), path,
                bench::flops_per_instruction(op));
    json += std::string(peaks.empty() ? "" : ", ") + "{\"op\": \"" + bench::peak_op_name(op) +
            "\", \"path\": \"" + path + "\", ";
    if (!bench::peak_op_available(op)) {
      std::printf("%21s\n", "not on this CPU");
      json += "\"available\": false}";
      peaks[op] = std::nullopt;
      continue;
    }
    const PeakRate rate = bench::measure_peak(op, min_seconds);
    std::printf("%10.1f %10.1f\n", rate.one_thread_gflops, rate.all_threads_gflops);
    std::fflush(stdout);
    json +=
        "\"available\": true, \"one_thread_gflops\": " + std::to_string(rate.one_thread_gflops) +
        ", \"all_threads_gflops\": " + std::to_string(rate.all_threads_gflops) + "}";
    peaks[op] = rate;
  }
  json += "]";
  return peaks;
}

// The GEMM on every path the CPU has, each shape on one thread and on all,
// against that path's peak; printed, and appended to `json` as a list.
void time_gemms(const std::vector<GemmShape>& shapes,
                const std::map<PeakOp, std::optional<PeakRate>>& peaks, int reps,
                std::string& json) {
  const int threads = omp_get_max_threads();
  std::vector<int> thread_counts = {1};
  if (threads > 1) thread_counts.push_back(threads);
  std::printf(
      "\nGEMM C = A B (median of %d calls; 1 thread in CPU time, more in wall time) and its "
      "share of the path's peak\n",
      reps);
  std::printf("%-12s %-5s %-28s %16s %7s %9s %8s\n", "path", "dtype", "shape", "m x n x k",
              "threads", "GFLOP/s", "of peak");
  json += "[";
  bool first = true;
  for (const GemmPath& path : kGemmPaths) {
    const char* dtype = path.bf16 ? "bf16" : "f32";
    if (!cpu::isa_built(path.isa) || cpu::cpu_isa() < path.isa) {
      std::printf("%-12s %-5s not on this CPU\n", cpu::isa_name(path.isa), dtype);
      continue;
    }
    const cpu::ScopedIsa scoped(path.isa);
    const PeakRate& peak = *peaks.at(*bench::peak_op_for(path.isa, path.bf16));
    for (const GemmShape& s : shapes) {
      for (int t : thread_counts) {
        omp_set_num_threads(t);
        const double seconds = path.bf16
                                   ? gemm_seconds<bf16>(s, reps, bench::clock_for_threads(t))
                                   : gemm_seconds<float>(s, reps, bench::clock_for_threads(t));
        omp_set_num_threads(threads);
        const double gflops = 2.0 * double(s.m) * double(s.n) * double(s.k) / seconds * 1e-9;
        const double of_peak = gflops / (t == 1 ? peak.one_thread_gflops : peak.all_threads_gflops);
        const std::string dims =
            std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k);
        std::printf("%-12s %-5s %-28s %16s %7d %9.1f %7.0f%%\n", cpu::isa_name(path.isa), dtype,
                    s.name.c_str(), dims.c_str(), t, gflops, 100 * of_peak);
        std::fflush(stdout);
        json += std::string(first ? "" : ", ") + "{\"path\": \"" + cpu::isa_name(path.isa) +
                "\", \"dtype\": \"" + dtype + "\", \"shape\": \"" + s.name +
                "\", \"m\": " + std::to_string(s.m) + ", \"n\": " + std::to_string(s.n) +
                ", \"k\": " + std::to_string(s.k) + ", \"threads\": " + std::to_string(t) +
                ", \"gflops\": " + std::to_string(gflops) +
                ", \"of_peak\": " + std::to_string(of_peak) + "}";
        first = false;
      }
    }
  }
  json += "]";
}

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
    for (const std::string& arg : shape_args) shapes.push_back(parse_shape(arg));
    const char* isa = cpu::isa_name(cpu::cpu_isa());
    std::printf("CPU path: %s, %d OpenMP threads\n", isa, omp_get_max_threads());
    std::string json = "{\"bench\": \"peak\", \"cpu_isa\": \"" + std::string(isa) +
                       "\", \"threads\": " + std::to_string(omp_get_max_threads()) +
                       ", \"peaks\": ";
    const auto peaks = measure_peaks(min_seconds, json);
    json += ", \"gemm\": ";
    time_gemms(shapes, peaks, reps, json);
    std::printf("%s}\n", json.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "peak_bench: error: %s\n", e.what());
    return 1;
  }
}
