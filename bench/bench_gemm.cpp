// Single-precision GEMM through dml::cpu::gemm (the AVX-512 SGEMM where the
// CPU has it, else OpenBLAS; DML_GEMM=openblas forces OpenBLAS) and through
// the AVX-512 kernel directly. The largest square size is the machine's sgemm
// ceiling, the yardstick the convolution numbers are read against.
#include <string>

#include "bench/bench_common.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/sgemm_avx512.h"

namespace {

using dml::bench::normal_buffer;

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
  if (!dml::cpu::sgemm_avx512_supported()) {
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
                                   if (!dml::cpu::sgemm_avx512_supported()) {
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

}  // namespace
