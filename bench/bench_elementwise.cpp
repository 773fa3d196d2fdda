// Elementwise kernels on 4M floats (16 MiB a buffer, so two or three buffers
// spill the 32 MiB L3 and the loops run at memory speed, not cache speed).
#include "bench/bench_common.h"
#include "kernels/cpu/elementwise.h"

namespace {

using dml::bench::normal_buffer;
using dml::cpu::BinaryOp;
using dml::cpu::StridedLayout;
using dml::cpu::UnaryOp;

constexpr int64_t kElems = int64_t(1) << 22;
constexpr double kFloat = sizeof(float);

// Bytes counted: each input read once and the output written once; the
// write-allocate read of the output's cache lines is not counted.
void BM_add(benchmark::State& state) {
  const std::vector<float> a = normal_buffer(kElems, 1), b = normal_buffer(kElems, 2);
  std::vector<float> out(kElems);
  const StridedLayout<2> same_shape{{kElems}, {{{1}, {1}}}};
  for (auto _ : state) {
    dml::cpu::binary<float>(BinaryOp::add, a.data(), b.data(), out.data(), same_shape);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  dml::bench::report_bytes(state, 3 * kElems * kFloat);
}
BENCHMARK(BM_add)->UseRealTime()->Unit(benchmark::kMicrosecond);

// [32, 64, 2048] times a per-channel [1, 64, 1] scale: the broadcast a batch
// norm's affine step or a channel attention does. It leaves the flat loop for
// the strided row walk, which is what this measures.
void BM_mul_channel_broadcast(benchmark::State& state) {
  constexpr int64_t kN = 32, kC = 64, kInner = kElems / (kN * kC);
  const std::vector<float> a = normal_buffer(kElems, 1), scale = normal_buffer(kC, 2);
  std::vector<float> out(kElems);
  const StridedLayout<2> per_channel{{kN, kC, kInner}, {{{kC * kInner, kInner, 1}, {0, 1, 0}}}};
  for (auto _ : state) {
    dml::cpu::binary<float>(BinaryOp::mul, a.data(), scale.data(), out.data(), per_channel);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  dml::bench::report_bytes(state, 2 * kElems * kFloat);
}
BENCHMARK(BM_mul_channel_broadcast)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_unary(benchmark::State& state, UnaryOp op) {
  const std::vector<float> x = normal_buffer(kElems, 1);
  std::vector<float> y(kElems);
  for (auto _ : state) {
    dml::cpu::unary<float>(op, x.data(), y.data(), kElems);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  dml::bench::report_bytes(state, 2 * kElems * kFloat);
}
BENCHMARK_CAPTURE(BM_unary, relu, UnaryOp::relu)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_unary, exp, UnaryOp::exp)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_relu_backward(benchmark::State& state) {
  const std::vector<float> g = normal_buffer(kElems, 1), x = normal_buffer(kElems, 2);
  std::vector<float> dx(kElems);
  for (auto _ : state) {
    dml::cpu::relu_backward<float>(g.data(), x.data(), dx.data(), kElems);
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  dml::bench::report_bytes(state, 3 * kElems * kFloat);
}
BENCHMARK(BM_relu_backward)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
