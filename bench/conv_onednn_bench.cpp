// The engine's convolutions beside oneDNN's, per ResNet shape: forward,
// backward data and backward filter, f32 and bf16, on every thread and on one.
// Ours are dml::cpu::conv2d_forward / backward_data / backward_filter on NCHW
// buffers (whatever those kernels run on the active path). oneDNN's is its
// convolution primitive with the layouts it picks (format_tag::any), timed
// alone: operands are reordered into its layouts once, outside the timing, as
// a framework that keeps its weights and activations blocked would hold them;
// the reorder of the activation input (NCHW into oneDNN's layout) is timed on
// its own and printed beside. Both results are brought back to NCHW and
// compared (relative L2 error), so a wrong mapping of a shape shows.
//
// Shapes: a representative set of ResNet-18 at 64 px (batch 32) and ResNet-50
// at 224 px (batch 16): the stems, a 3x3 stride-1 convolution of each stage,
// 3x3 stride 2, 1x1 reduce and expand, 1x1 stride-2 shortcuts. Rates are
// GFLOP/s (2 flops per multiply-add on the input, padding not counted) and
// the share of the path's peak on as many threads (bench/peak_flops.h,
// measured at start); "ours/dn" is our rate over oneDNN's (above 1: ours is
// faster). Each figure is the median of --reps calls after one untimed call,
// on one thread by the process's CPU clock (a shared machine's other load
// left out), on several by the wall clock. Prints a table and one JSON line.
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "base/dtype.h"
#include "base/error.h"
#include "bench/bench_data.h"
#include "bench/peak_flops.h"
#include "bench/run_timing.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/isa.h"

namespace {

using namespace dml;
using dnnl::memory;

struct NamedShape {
  std::string name;
  cpu::ConvShape shape;
};

// A square convolution of an n x c x h x h input, groups 1, no dilation.
NamedShape conv(std::string name, int64_t n, int64_t c, int64_t h, int64_t o, int64_t k,
                int64_t stride, int64_t pad) {
  return {std::move(name), {n, c, h, h, o, k, k, stride, stride, pad, pad, 1, 1, 1}};
}

// ResNet-50 is torchvision's (stride on the 3x3 convolution of a block).
std::vector<NamedShape> resnet_shapes(int64_t batch18, int64_t batch50) {
  return {conv("r18 stem 7x7 s2", batch18, 3, 64, 64, 7, 2, 3),
          conv("r18 layer1 3x3", batch18, 64, 16, 64, 3, 1, 1),
          conv("r18 layer2 3x3 s2", batch18, 64, 16, 128, 3, 2, 1),
          conv("r18 layer2 1x1 s2 short", batch18, 64, 16, 128, 1, 2, 0),
          conv("r18 layer3 3x3", batch18, 256, 4, 256, 3, 1, 1),
          conv("r50 stem 7x7 s2", batch50, 3, 224, 64, 7, 2, 3),
          conv("r50 layer1 1x1 reduce", batch50, 256, 56, 64, 1, 1, 0),
          conv("r50 layer1 3x3", batch50, 64, 56, 64, 3, 1, 1),
          conv("r50 layer1 1x1 expand", batch50, 64, 56, 256, 1, 1, 0),
          conv("r50 layer2 3x3 s2", batch50, 128, 56, 128, 3, 2, 1),
          conv("r50 layer2 1x1 s2 short", batch50, 256, 56, 512, 1, 2, 0),
          conv("r50 layer3 3x3", batch50, 256, 14, 256, 3, 1, 1),
          conv("r50 layer4 1x1 expand", batch50, 512, 7, 2048, 1, 1, 0)};
}

enum class Direction { forward, backward_data, backward_filter };
constexpr Direction kDirections[] = {Direction::forward, Direction::backward_data,
                                     Direction::backward_filter};
const char* direction_name(Direction d) {
  return d == Direction::forward ? "fwd" : d == Direction::backward_data ? "bwd_data" : "bwd_filt";
}

// Kernel taps along one axis that land on the input, not its zero padding,
// summed over the output positions.
int64_t taps_on_input(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad,
                      int64_t dil) {
  int64_t taps = 0;
  for (int64_t o = 0; o < out; ++o)
    for (int64_t t = 0; t < k; ++t) {
      const int64_t i = o * stride - pad + t * dil;
      taps += i >= 0 && i < in;
    }
  return taps;
}

// 2 flops per multiply-add that reads the input itself: a kernel that skips
// the padding (as oneDNN's do) does no less work than this, so no rate reads
// above the machine's peak on a small image with a wide border.
double conv_flops(const cpu::ConvShape& s) {
  return 2.0 * double(s.n * s.o * (s.c / s.groups)) *
         double(taps_on_input(s.h, s.out_h(), s.kh, s.stride_h, s.pad_h, s.dil_h)) *
         double(taps_on_input(s.w, s.out_w(), s.kw, s.stride_w, s.pad_w, s.dil_w));
}

// oneDNN's view of the shape: dims, and padding on the high side such that
// its output size is ours.
struct DnnlGeometry {
  memory::dims src, weights, dst, strides, dilates, pad_l, pad_r;
  explicit DnnlGeometry(const cpu::ConvShape& s)
      : src{s.n, s.c, s.h, s.w},
        weights{s.o, s.c, s.kh, s.kw},
        dst{s.n, s.o, s.out_h(), s.out_w()},
        strides{s.stride_h, s.stride_w},
        dilates{s.dil_h - 1, s.dil_w - 1},
        pad_l{s.pad_h, s.pad_w},
        pad_r{(s.out_h() - 1) * s.stride_h + s.dil_h * (s.kh - 1) + 1 - s.h - s.pad_h,
              (s.out_w() - 1) * s.stride_w + s.dil_w * (s.kw - 1) + 1 - s.w - s.pad_w} {}
};

// An operand of oneDNN's primitive: our NCHW (or OIHW) buffer and the layout
// the primitive wants.
struct Binding {
  int arg;
  memory user;
  memory::desc wanted;
};

struct DnnlTiming {
  double seconds = 0;
  double input_reorder_seconds = 0;  // 0: the primitive reads NCHW as it is
  std::string impl;
};

// Runs `prim` on `inputs` (the first is the activation whose reorder is
// timed) into `output`, each in the layout the primitive wants; the output
// lands in output.user.
DnnlTiming time_primitive(dnnl::engine& engine, dnnl::stream& stream, const dnnl::primitive& prim,
                          const std::vector<Binding>& inputs, const Binding& output, int reps,
                          bench::Clock clock) {
  auto layout_of = [&](const Binding& b) {
    return b.user.get_desc() == b.wanted ? b.user : memory(b.wanted, engine);
  };
  auto reorder = [&](memory from, memory to) {  // handles: copies share the buffer
    dnnl::reorder(from, to).execute(stream, from, to);
    stream.wait();
  };
  DnnlTiming t;
  std::unordered_map<int, memory> args;
  for (const Binding& b : inputs) {
    args[b.arg] = layout_of(b);
    if (args[b.arg] != b.user) reorder(b.user, args[b.arg]);
  }
  const Binding& activation = inputs.front();
  if (args[activation.arg] != activation.user)
    t.input_reorder_seconds = bench::median_seconds(
        reps, [&] { reorder(activation.user, args[activation.arg]); }, clock);
  args[output.arg] = layout_of(output);
  t.seconds = bench::median_seconds(
      reps,
      [&] {
        prim.execute(stream, args);
        stream.wait();
      },
      clock);
  if (args[output.arg] != output.user) reorder(args[output.arg], output.user);
  return t;
}

memory::data_type dnnl_type(bool bf16) {
  return bf16 ? memory::data_type::bf16 : memory::data_type::f32;
}

// One shape in one direction and type: ours and oneDNN's.
struct Measurement {
  double ours_seconds = 0;
  DnnlTiming dnnl;
  double rel_error = 0;  // ||ours - oneDNN|| / ||oneDNN||, L2, on the NCHW result
};

template <class T>
double relative_error(const std::vector<T>& ours, const std::vector<T>& theirs) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    const double a = kernels::load(ours[i]), b = kernels::load(theirs[i]);
    diff += (a - b) * (a - b);
    norm += b * b;
  }
  return std::sqrt(diff / std::max(norm, 1e-30));
}

template <class T>
Measurement measure(dnnl::engine& engine, dnnl::stream& stream, const cpu::ConvShape& s,
                    Direction direction, int reps, bench::Clock clock) {
  constexpr bool kBf16 = std::is_same_v<T, bf16>;
  const DnnlGeometry g(s);
  const memory::data_type type = dnnl_type(kBf16);
  auto any = [&](const memory::dims& dims) {
    return memory::desc(dims, type, memory::format_tag::any);
  };
  auto user = [&](const memory::dims& dims, std::vector<T>& buffer) {
    return memory(memory::desc(dims, type, memory::format_tag::abcd), engine, buffer.data());
  };
  const dnnl::convolution_forward::primitive_desc forward_pd(
      dnnl::convolution_forward::desc(
          dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, any(g.src),
          any(g.weights), any(g.dst), g.strides, g.dilates, g.pad_l, g.pad_r),
      engine);
  std::vector<T> x = bench::normal_buffer<T>(s.input_size(), 1);
  std::vector<T> w = bench::normal_buffer<T>(s.weight_size(), 2);
  std::vector<T> y = bench::normal_buffer<T>(s.output_size(), 3);  // dy in the backward passes
  Measurement m;
  std::vector<T> ours, theirs;
  switch (direction) {
    case Direction::forward: {
      ours.resize(y.size());
      theirs.resize(y.size());
      m.ours_seconds = bench::median_seconds(
          reps, [&] { cpu::conv2d_forward<T>(s, x.data(), w.data(), nullptr, ours.data()); },
          clock);
      m.dnnl =
          time_primitive(engine, stream, dnnl::convolution_forward(forward_pd),
                         {{DNNL_ARG_SRC, user(g.src, x), forward_pd.src_desc()},
                          {DNNL_ARG_WEIGHTS, user(g.weights, w), forward_pd.weights_desc()}},
                         {DNNL_ARG_DST, user(g.dst, theirs), forward_pd.dst_desc()}, reps, clock);
      m.dnnl.impl = forward_pd.impl_info_str();
      break;
    }
    case Direction::backward_data: {
      const dnnl::convolution_backward_data::primitive_desc pd(
          dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, any(g.src),
                                                any(g.weights), any(g.dst), g.strides, g.dilates,
                                                g.pad_l, g.pad_r),
          engine, forward_pd);
      ours.resize(x.size());
      theirs.resize(x.size());
      m.ours_seconds = bench::median_seconds(
          reps, [&] { cpu::conv2d_backward_data<T>(s, y.data(), w.data(), ours.data()); }, clock);
      m.dnnl =
          time_primitive(engine, stream, dnnl::convolution_backward_data(pd),
                         {{DNNL_ARG_DIFF_DST, user(g.dst, y), pd.diff_dst_desc()},
                          {DNNL_ARG_WEIGHTS, user(g.weights, w), pd.weights_desc()}},
                         {DNNL_ARG_DIFF_SRC, user(g.src, theirs), pd.diff_src_desc()}, reps, clock);
      m.dnnl.impl = pd.impl_info_str();
      break;
    }
    case Direction::backward_filter: {
      const dnnl::convolution_backward_weights::primitive_desc pd(
          dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, any(g.src),
                                                   any(g.weights), any(g.dst), g.strides, g.dilates,
                                                   g.pad_l, g.pad_r),
          engine, forward_pd);
      ours.resize(w.size());
      theirs.resize(w.size());
      m.ours_seconds = bench::median_seconds(
          reps,
          [&] { cpu::conv2d_backward_filter<T>(s, x.data(), y.data(), ours.data(), nullptr); },
          clock);
      m.dnnl = time_primitive(
          engine, stream, dnnl::convolution_backward_weights(pd),
          {{DNNL_ARG_SRC, user(g.src, x), pd.src_desc()},
           {DNNL_ARG_DIFF_DST, user(g.dst, y), pd.diff_dst_desc()}},
          {DNNL_ARG_DIFF_WEIGHTS, user(g.weights, theirs), pd.diff_weights_desc()}, reps, clock);
      m.dnnl.impl = pd.impl_info_str();
      break;
    }
  }
  m.rel_error = relative_error(ours, theirs);
  return m;
}

// A JSON number with six significant digits (errors reach 1e-8).
std::string json_number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", v);
  return text;
}

std::string dnnl_description() {
  const dnnl_version_t* v = dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->patch) + " (CPU runtime " +
         (v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "not OpenMP") + ")";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ResNet convolutions: the engine's kernels beside oneDNN's"};
  int reps = 5;
  int64_t batch18 = 32, batch50 = 16;
  double min_seconds = 0.1;
  std::string only, dtypes = "f32,bf16";
  std::vector<int> thread_counts;
  app.add_option("--reps", reps, "Timed calls per measurement (the median is kept)")
      ->capture_default_str();
  app.add_option("--batch18", batch18, "ResNet-18 shapes' batch")->capture_default_str();
  app.add_option("--batch50", batch50, "ResNet-50 shapes' batch")->capture_default_str();
  app.add_option("--only", only, "Only the shapes whose name contains this");
  app.add_option("--dtypes", dtypes, "f32, bf16 or both")->capture_default_str();
  app.add_option("--threads", thread_counts, "Thread counts (default: all, then 1)");
  app.add_option("--min-time", min_seconds, "Seconds each peak loop runs at least")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const int all_threads = omp_get_max_threads();
    if (thread_counts.empty()) {
      thread_counts = {all_threads};
      if (all_threads > 1) thread_counts.push_back(1);
    }
    std::vector<bool> types;
    if (dtypes.find("f32") != std::string::npos) types.push_back(false);
    if (dtypes.find("bf16") != std::string::npos) types.push_back(true);
    DML_CHECK(!types.empty(), "--dtypes '", dtypes, "': name f32, bf16 or both");
    std::vector<NamedShape> shapes;
    for (NamedShape& s : resnet_shapes(batch18, batch50))
      if (s.name.find(only) != std::string::npos) shapes.push_back(s);
    DML_CHECK(!shapes.empty(), "--only '", only, "' matches no shape");

    const cpu::Isa isa = cpu::active_isa();
    std::printf("%s; our path %s; %d OpenMP threads\n", dnnl_description().c_str(),
                cpu::isa_name(isa), all_threads);
    // The path's peak per type, the yardstick of both engines.
    std::optional<bench::PeakRate> peak[2];
    for (bool bf16 : types) {
      const std::optional<bench::PeakOp> op = bench::peak_op_for(isa, bf16);
      if (!op) continue;
      peak[bf16] = bench::measure_peak(*op, min_seconds);
      std::printf("peak %s (%s): %.1f GFLOP/s on 1 thread, %.1f on %d\n", bf16 ? "bf16" : "f32",
                  bench::peak_op_name(*op), peak[bf16]->one_thread_gflops,
                  peak[bf16]->all_threads_gflops, peak[bf16]->threads);
    }
    std::printf("\nshapes (n c h=w -> o, kernel, stride, pad):\n");
    for (const NamedShape& s : shapes)
      std::printf("  %-24s %3lld %4lld %3lld -> %4lld, %lldx%lld, s%lld, p%lld, %.2f GFLOP\n",
                  s.name.c_str(), (long long)s.shape.n, (long long)s.shape.c, (long long)s.shape.h,
                  (long long)s.shape.o, (long long)s.shape.kh, (long long)s.shape.kw,
                  (long long)s.shape.stride_h, (long long)s.shape.pad_h,
                  conv_flops(s.shape) * 1e-9);

    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    std::printf("\n%-24s %-8s %-4s %3s %9s %7s %5s %9s %7s %5s %7s %8s %8s  %s\n", "shape", "pass",
                "type", "thr", "ours ms", "GFLOP/s", "%pk", "dnnl ms", "GFLOP/s", "%pk", "ours/dn",
                "rel err", "reord ms", "oneDNN impl");
    std::string json = "{\"bench\": \"conv_onednn\", \"path\": \"" +
                       std::string(cpu::isa_name(isa)) + "\", \"rows\": [";
    bool first = true;
    for (int threads : thread_counts) {
      omp_set_num_threads(threads);
      const bench::Clock clock = bench::clock_for_threads(threads);
      for (bool bf16 : types) {
        for (const NamedShape& ns : shapes) {
          for (Direction d : kDirections) {
            const Measurement m = bf16
                                      ? measure<dml::bf16>(engine, stream, ns.shape, d, reps, clock)
                                      : measure<float>(engine, stream, ns.shape, d, reps, clock);
            const double flops = conv_flops(ns.shape);
            const double ours_gflops = flops / m.ours_seconds * 1e-9;
            const double dnnl_gflops = flops / m.dnnl.seconds * 1e-9;
            const double peak_gflops = !peak[bf16] ? 0
                                       : threads == 1
                                           ? peak[bf16]->one_thread_gflops
                                           : peak[bf16]->all_threads_gflops * threads / all_threads;
            auto share = [&](double gflops) { return peak_gflops > 0 ? gflops / peak_gflops : 0; };
            std::printf(
                "%-24s %-8s %-4s %3d %9.2f %7.1f %4.0f%% %9.2f %7.1f %4.0f%% %6.2fx %8.1e %8.2f  "
                "%s\n",
                ns.name.c_str(), direction_name(d), bf16 ? "bf16" : "f32", threads,
                m.ours_seconds * 1e3, ours_gflops, 100 * share(ours_gflops), m.dnnl.seconds * 1e3,
                dnnl_gflops, 100 * share(dnnl_gflops), m.dnnl.seconds / m.ours_seconds, m.rel_error,
                m.dnnl.input_reorder_seconds * 1e3, m.dnnl.impl.c_str());
            std::fflush(stdout);
            json += std::string(first ? "" : ", ") + "{\"shape\": \"" + ns.name +
                    "\", \"pass\": \"" + direction_name(d) + "\", \"dtype\": \"" +
                    (bf16 ? "bf16" : "f32") + "\", \"threads\": " + std::to_string(threads) +
                    ", \"ours_ms\": " + json_number(m.ours_seconds * 1e3) +
                    ", \"onednn_ms\": " + json_number(m.dnnl.seconds * 1e3) +
                    ", \"ours_of_peak\": " + json_number(share(ours_gflops)) +
                    ", \"onednn_of_peak\": " + json_number(share(dnnl_gflops)) +
                    ", \"input_reorder_ms\": " + json_number(m.dnnl.input_reorder_seconds * 1e3) +
                    ", \"rel_error\": " + json_number(m.rel_error) + ", \"onednn_impl\": \"" +
                    m.dnnl.impl + "\"}";
            first = false;
          }
        }
      }
    }
    omp_set_num_threads(all_threads);
    std::printf("%s]}\n", json.c_str());
    return 0;
  } catch (const dnnl::error& e) {
    std::fprintf(stderr, "conv_onednn_bench: oneDNN error: %s (status %d)\n", e.what(),
                 int(e.status));
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "conv_onednn_bench: error: %s\n", e.what());
    return 1;
  }
}
