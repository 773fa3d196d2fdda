// Convolution forward, backward-data and backward-filter (im2col + GEMM) at
// ResNet layer shapes, plus the forward pass's GEMMs alone, so the doc can
// split each convolution's time into GEMM and everything around it.
#include <string>

#include "bench/bench_common.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/gemm.h"

namespace {

using dml::bench::normal_buffer;
using dml::kernels::ConvShape;

struct NamedShape {
  const char* name;
  ConvShape shape;
};

// {n, c, h, w,  o, kh, kw,  stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups}
const NamedShape kShapes[] = {
    {"a_r18_stem_7x7s2_3to64_8x3x64x64", {8, 3, 64, 64, 64, 7, 7, 2, 2, 3, 3, 1, 1, 1}},
    {"b_r18_layer1_3x3_64to64_8x64x16x16", {8, 64, 16, 16, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"c_r18_down_3x3s2_128to256_8x128x8x8", {8, 128, 8, 8, 256, 3, 3, 2, 2, 1, 1, 1, 1, 1}},
    {"d_r50_reduce_1x1_256to64_8x256x14x14", {8, 256, 14, 14, 64, 1, 1, 1, 1, 0, 0, 1, 1, 1}},
    {"e_r50_layer1_3x3_64to64_16x64x56x56", {16, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
};

// Multiply-adds times two; the backward passes do the same products transposed,
// so all three directions share this count.
double conv_flops(const ConvShape& s) {
  return 2.0 * double(s.n * s.o * s.out_h() * s.out_w()) * double(s.c / s.groups * s.kh * s.kw);
}

// No bias anywhere: in a ResNet every convolution feeds a batch norm.
void BM_conv2d_forward(benchmark::State& state, ConvShape s) {
  const std::vector<float> x = normal_buffer(s.input_size(), 1),
                           w = normal_buffer(s.weight_size(), 2);
  std::vector<float> y(size_t(s.output_size()));
  for (auto _ : state) {
    dml::cpu::conv2d_forward<float>(s, x.data(), w.data(), nullptr, y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  dml::bench::report_flops(state, conv_flops(s));
}

void BM_conv2d_backward_data(benchmark::State& state, ConvShape s) {
  const std::vector<float> dy = normal_buffer(s.output_size(), 3),
                           w = normal_buffer(s.weight_size(), 2);
  std::vector<float> dx(size_t(s.input_size()));
  for (auto _ : state) {
    dml::cpu::conv2d_backward_data<float>(s, dy.data(), w.data(), dx.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  dml::bench::report_flops(state, conv_flops(s));
}

void BM_conv2d_backward_filter(benchmark::State& state, ConvShape s) {
  const std::vector<float> x = normal_buffer(s.input_size(), 1),
                           dy = normal_buffer(s.output_size(), 3);
  std::vector<float> dw(size_t(s.weight_size()));
  for (auto _ : state) {
    dml::cpu::conv2d_backward_filter<float>(s, x.data(), dy.data(), dw.data(), nullptr);
    benchmark::DoNotOptimize(dw.data());
    benchmark::ClobberMemory();
  }
  dml::bench::report_flops(state, conv_flops(s));
}

// The forward pass without im2col: the same per-image GEMMs
// out[O, OH*OW] = W[O, C*KH*KW] x col[C*KH*KW, OH*OW] on a ready column matrix.
// Forward time minus this is what im2col and the per-image loop cost.
void BM_conv2d_forward_gemm_only(benchmark::State& state, ConvShape s) {
  const int64_t m = s.o, n = s.out_h() * s.out_w(), k = s.c * s.kh * s.kw;
  const std::vector<float> w = normal_buffer(m * k, 2), col = normal_buffer(k * n, 1);
  std::vector<float> y(size_t(s.n * m * n));
  for (auto _ : state) {
    for (int64_t img = 0; img < s.n; ++img)
      dml::cpu::gemm<float>(false, false, m, n, k, 1.f, w.data(), k, col.data(), n, 0.f,
                            y.data() + img * m * n, n);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  dml::bench::report_flops(state, conv_flops(s));
}

void register_shape(const char* op, void (*fn)(benchmark::State&, ConvShape),
                    const NamedShape& named) {
  const std::string name = std::string(op) + "/" + named.name;
  benchmark::RegisterBenchmark(name.c_str(), fn, named.shape)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

// Registered by name rather than by BENCHMARK(...)->Args so the output says
// which ResNet layer each row is.
const bool kRegistered = [] {
  for (const NamedShape& named : kShapes) {
    register_shape("BM_conv2d_forward", BM_conv2d_forward, named);
    register_shape("BM_conv2d_backward_data", BM_conv2d_backward_data, named);
    register_shape("BM_conv2d_backward_filter", BM_conv2d_backward_filter, named);
    register_shape("BM_conv2d_forward_gemm_only", BM_conv2d_forward_gemm_only, named);
  }
  return true;
}();

}  // namespace
