// Data-parallel collectives on the CPU, under mpirun: the all-reduce's time
// and bus bandwidth per payload, and one training step of an MLP (forward,
// backward, gradient sums) three ways: backward alone, the buckets reduced
// after backward (finish() only), and the buckets started during backward
// (watch()). Rank 0 prints one JSON line per measurement with every
// repetition's time and the median.
//
//   mpirun -n 2 build/bench/distributed_bench [--mb 1,4,16] [--reps 20]
//          [--layers 8] [--width 512] [--batch 64] [--bucket-mb 2]
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/run_timing.h"
#include "engine/distributed/communicator.h"
#include "engine/distributed/gradient_reducer.h"
#include "engine/ops.h"

namespace {

using namespace dml;
using bench::json_list;
using bench::median;
using bench::time_reps;

void report(dist::Communicator& w, const std::string& fields, const std::vector<double>& secs) {
  if (w.rank() != 0) return;
  std::printf("{\"ranks\":%d,%s,\"median_ms\":%.3f,\"seconds\":%s}\n", w.size(), fields.c_str(),
              median(secs) * 1e3, json_list(secs).c_str());
  std::fflush(stdout);
}

void bench_all_reduce(dist::Communicator& w, double mb, int reps) {
  Tensor t = ones({int64_t(mb * (1 << 20) / 4)});
  const std::vector<double> secs = time_reps(reps, [&] { w.all_reduce_sum(t); });
  // A ring all-reduce moves 2 (n - 1) / n of the payload through each rank.
  const double bus_gbps = 2.0 * (w.size() - 1) / w.size() * double(t.nbytes()) / median(secs) / 1e9;
  char fields[128];
  std::snprintf(fields, sizeof fields, "\"bench\":\"all_reduce_sum\",\"mb\":%g,\"bus_gbps\":%.2f",
                mb, bus_gbps);
  report(w, fields, secs);
}

void bench_step(dist::Communicator& w, int layers, int width, int batch, double bucket_mb,
                int reps) {
  Generator gen(1234);
  std::vector<Tensor> params;
  for (int l = 0; l < layers; ++l) {
    params.push_back(mul(randn({width, width}, DType::f32, &gen), 1.0 / width).requires_grad_());
    params.push_back(zeros({width}).requires_grad_());
  }
  Generator data(99 + uint64_t(w.rank()));
  Tensor x = randn({batch, width}, DType::f32, &data);
  auto backward = [&] {
    for (const Tensor& p : params) p.zero_grad();
    Tensor h = x;
    for (int l = 0; l < layers; ++l) h = relu(linear(h, params[2 * l], params[2 * l + 1]));
    sum(mul(h, h)).backward();
  };
  dist::GradientReducer reducer(w, params, bucket_mb);
  const std::vector<std::pair<const char*, std::function<void()>>> modes = {
      {"backward_only", backward},
      {"reduce_after_backward",
       [&] {
         backward();
         reducer.finish();
       }},
      {"reduce_during_backward",
       [&] {
         {
           auto scope = reducer.watch();
           backward();
         }
         reducer.finish();
       }},
  };
  for (const auto& [name, step] : modes) {
    w.barrier();
    char fields[256];
    std::snprintf(fields, sizeof fields,
                  "\"bench\":\"mlp_step\",\"mode\":\"%s\",\"layers\":%d,\"width\":%d,"
                  "\"batch\":%d,\"bucket_mb\":%g,\"buckets\":%lld",
                  name, layers, width, batch, bucket_mb, (long long)reducer.buckets());
    report(w, fields, time_reps(reps, step));
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"distributed_bench: all-reduce and data-parallel step timings (run under mpirun)"};
  std::vector<double> mbs = {1, 4, 16};
  int reps = 20, layers = 8, width = 512, batch = 64;
  double bucket_mb = 2;
  app.add_option("--mb", mbs, "all-reduce payloads in MiB")->delimiter(',');
  app.add_option("--reps", reps, "timed repetitions after one warm-up");
  app.add_option("--layers", layers, "MLP layers");
  app.add_option("--width", width, "MLP width");
  app.add_option("--batch", batch, "rows per rank");
  app.add_option("--bucket-mb", bucket_mb, "gradient bucket size in MiB");
  CLI11_PARSE(app, argc, argv);
  try {
    dist::Communicator& w = dist::world();
    for (double mb : mbs) bench_all_reduce(w, mb, reps);
    bench_step(w, layers, width, batch, bucket_mb, reps);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "distributed_bench: %s\n", e.what());
    dist::abort_world(1);
  }
  return 0;
}
