// Batch norm in training mode on a 32x64x32x32 activation: forward (batch
// statistics, then the normalisation) and backward (dx, dgamma, dbeta).
#include <cmath>

#include "bench/bench_common.h"
#include "kernels/cpu/batch_norm.h"

namespace {

using dml::bench::normal_buffer;

constexpr int64_t kN = 32, kC = 64, kHW = 32 * 32;
constexpr int64_t kElems = kN * kC * kHW;
constexpr double kFloat = sizeof(float);

// Per-channel vectors filled as the forward pass would leave them.
struct ChannelParams {
  std::vector<float> gamma = std::vector<float>(kC, 1.f), beta = std::vector<float>(kC, 0.f);
  std::vector<float> mean = std::vector<float>(kC), var = std::vector<float>(kC),
                     invstd = std::vector<float>(kC);
};

void compute_invstd(ChannelParams& p) {
  for (int64_t ch = 0; ch < kC; ++ch) p.invstd[ch] = 1.f / std::sqrt(p.var[ch] + 1e-5f);
}

// Bytes counted are the least any implementation moves: x read once, y written
// once. The kernels read x three times (two statistics passes, then apply), so
// this is an effective, not a measured, bandwidth.
void BM_batch_norm_forward(benchmark::State& state) {
  const std::vector<float> x = normal_buffer(kElems, 1);
  std::vector<float> y(kElems);
  ChannelParams p;
  for (auto _ : state) {
    dml::cpu::batch_norm_stats<float>(x.data(), kN, kC, kHW, p.mean.data(), p.var.data());
    compute_invstd(p);
    dml::cpu::batch_norm_apply<float>(x.data(), kN, kC, kHW, p.mean.data(), p.invstd.data(),
                                      p.gamma.data(), p.beta.data(), /*residual=*/nullptr,
                                      /*relu=*/false, y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  dml::bench::report_bytes(state, 2 * kElems * kFloat);
}
BENCHMARK(BM_batch_norm_forward)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Least traffic: dy and x read, dx written (the kernel reads dy and x twice).
void BM_batch_norm_backward(benchmark::State& state) {
  const std::vector<float> x = normal_buffer(kElems, 1), dy = normal_buffer(kElems, 2);
  std::vector<float> dx(kElems);
  ChannelParams p;
  dml::cpu::batch_norm_stats<float>(x.data(), kN, kC, kHW, p.mean.data(), p.var.data());
  compute_invstd(p);
  std::vector<float> dgamma(kC), dbeta(kC);
  for (auto _ : state) {
    dml::cpu::batch_norm_backward<float>(dy.data(), /*relu_y=*/nullptr, x.data(), kN, kC, kHW,
                                         p.mean.data(), p.invstd.data(), p.gamma.data(),
                                         /*training=*/true, dx.data(), dgamma.data(), dbeta.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  dml::bench::report_bytes(state, 3 * kElems * kFloat);
}
BENCHMARK(BM_batch_norm_backward)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
