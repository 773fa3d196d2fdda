// Single-precision GEMM through dml::cpu::gemm (the active path's choice;
// DML_GEMM=openblas forces OpenBLAS where it is linked), through the AVX-512
// kernel directly, and f32 / f64 on each instruction-set path (isa.h) by
// name. The largest square size is the machine's sgemm ceiling, the
// yardstick the convolution numbers are read against.
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/sgemm_avx512.h"

namespace {

using dml::bench::normal_buffer;
using dml::cpu::Isa;

using GemmFn = void (*)(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                        const float*, int64_t, float, float*, int64_t);

// C[m, n] = op(A) op(B), row-major, beta = 0, op(A) m x k and op(B) k x n.
void run_sgemm(benchmark::State& state, GemmFn fn, bool trans_a, bool trans_b, int64_t m, int64_t n,
               int64_t k) {
  const std::vector<float> a = normal_buffer(m * k, 1), b = normal_buffer(k * n, 2);
  std::vector<float> c(size_t(m * n));
  const int64_t lda = trans_a ? m : k, ldb = trans_b ? k : n;
  for (auto _ : state) {
    fn(trans_a, trans_b, m, n, k, 1.f, a.data(), lda, b.data(), ldb, 0.f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  dml::bench::report_flops(state, 2.0 * double(m) * double(n) * double(k));
}

// No transposes: the product a Linear layer and an im2col convolution end in.
void BM_sgemm(benchmark::State& state) {
  run_sgemm(state, dml::cpu::gemm<float>, false, false, state.range(0), state.range(1),
            state.range(2));
}

void BM_sgemm_avx512(benchmark::State& state) {
  if (dml::cpu::cpu_isa() < Isa::avx512) {
    state.SkipWithError("no AVX-512 on this CPU");
    return;
  }
  run_sgemm(state, dml::cpu::sgemm_avx512, false, false, state.range(0), state.range(1),
            state.range(2));
}

void square_and_skinny(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "n", "k"})
      ->Args({256, 256, 256})
      ->Args({512, 512, 512})
      ->Args({1024, 1024, 1024})
      ->Args({2048, 2048, 2048})
      // Tall and skinny: a batch of rows through a narrow Linear layer.
      ->Args({4096, 64, 64})
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}
BENCHMARK(BM_sgemm)->Apply(square_and_skinny);
BENCHMARK(BM_sgemm_avx512)->Apply(square_and_skinny);

// The three GEMMs of an im2col convolution, as conv2d.cpp issues them for one
// batch of images (O out channels, K = C*KH*KW column rows, P = images*OH*OW
// columns): forward W[O,K] x col[K,P]; backward-data W^T x dY (trans_a);
// backward-filter dY x col^T (trans_b, the long P as k).
struct ConvGemm {
  const char* name;
  bool trans_a, trans_b;
  int64_t m, n, k;
};
const ConvGemm kConvGemms[] = {
    // ResNet-50 layer-1 3x3 64->64 at 56x56, 4 images per GEMM.
    {"e_r50_3x3_64to64_forward", false, false, 64, 12544, 576},
    {"e_r50_3x3_64to64_backward_data", true, false, 576, 12544, 64},
    {"e_r50_3x3_64to64_backward_filter", false, true, 64, 576, 12544},
    // ResNet-18 stem 7x7 3->64 at 64x64, 8 images.
    {"a_r18_stem_7x7_3to64_forward", false, false, 64, 8192, 147},
    {"a_r18_stem_7x7_3to64_backward_data", true, false, 147, 8192, 64},
    {"a_r18_stem_7x7_3to64_backward_filter", false, true, 64, 147, 8192},
};

const bool kConvRegistered = [] {
  for (const ConvGemm& g : kConvGemms) {
    const std::string dims =
        "/m:" + std::to_string(g.m) + "/n:" + std::to_string(g.n) + "/k:" + std::to_string(g.k);
    benchmark::RegisterBenchmark(("BM_sgemm_conv/" + std::string(g.name) + dims).c_str(),
                                 [g](benchmark::State& state) {
                                   run_sgemm(state, dml::cpu::gemm<float>, g.trans_a, g.trans_b,
                                             g.m, g.n, g.k);
                                 })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_sgemm_avx512_conv/" + std::string(g.name) + dims).c_str(),
                                 [g](benchmark::State& state) {
                                   if (dml::cpu::cpu_isa() < Isa::avx512) {
                                     state.SkipWithError("no AVX-512 on this CPU");
                                     return;
                                   }
                                   run_sgemm(state, dml::cpu::sgemm_avx512, g.trans_a, g.trans_b,
                                             g.m, g.n, g.k);
                                 })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

// C[m, n] = A B on the path range(0) (0 portable, 1 avx2, 2 avx512: the
// engine's own kernels of that path, as under DML_ISA; -1: gemm's own choice,
// OpenBLAS's products included, all of them under DML_GEMM=openblas),
// T = f32 or f64.
template <class T>
void BM_gemm_path(benchmark::State& state) {
  const bool chosen = state.range(0) >= 0;
  const Isa isa = chosen ? Isa(state.range(0)) : dml::cpu::active_isa();
  if (isa > dml::cpu::cpu_isa()) {
    state.SkipWithError("this CPU lacks the path");
    return;
  }
  std::optional<dml::cpu::ScopedIsa> scope;
  if (chosen) scope.emplace(isa);
  const int64_t m = state.range(1), n = state.range(2), k = state.range(3);
  const std::vector<float> af = normal_buffer(m * k, 1), bf = normal_buffer(k * n, 2);
  const std::vector<T> a(af.begin(), af.end()), b(bf.begin(), bf.end());
  std::vector<T> c(size_t(m * n));
  for (auto _ : state) {
    dml::cpu::gemm<T>(false, false, m, n, k, T(1), a.data(), k, b.data(), n, T(0), c.data(), n);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(chosen ? dml::cpu::isa_name(isa) : "default");
  dml::bench::report_flops(state, 2.0 * double(m) * double(n) * double(k));
}

// ResNet-shaped products (rows = images x pixels, as an NHWC convolution or
// a 1x1 one sees them): 56x56 pixels 64->256 (1x1), 28x28 3x3 128 in,
// 7x7 3x3 512 in, a batch of 32 through a 2048-wide Linear; and a square 1024.
void resnet_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"isa", "m", "n", "k"});
  for (int64_t isa = -1; isa <= 2; ++isa)
    for (const std::vector<int64_t>& mnk : {std::vector<int64_t>{3136, 256, 64},
                                            {784, 128, 1152},
                                            {49, 512, 4608},
                                            {32, 128, 2048},
                                            {1024, 1024, 1024}})
      b->Args({isa, mnk[0], mnk[1], mnk[2]});
  b->UseRealTime()->Unit(benchmark::kMillisecond);
}
BENCHMARK(BM_gemm_path<float>)->Apply(resnet_shapes);
BENCHMARK(BM_gemm_path<double>)->Apply(resnet_shapes);

// Products the lean path takes: small squares and one image's row through a
// Linear layer.
void lean_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"isa", "m", "n", "k"});
  for (int64_t isa = -1; isa <= 2; ++isa)
    for (const std::vector<int64_t>& mnk : {std::vector<int64_t>{8, 8, 8},
                                            {16, 16, 16},
                                            {31, 31, 31},
                                            {1, 512, 2048},
                                            {4, 1000, 512}})
      b->Args({isa, mnk[0], mnk[1], mnk[2]});
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}
BENCHMARK(BM_gemm_path<float>)->Apply(lean_shapes);

}  // namespace
