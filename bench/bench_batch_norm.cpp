// Batch norm in training mode on a 32x64x32x32 activation: forward (batch
// statistics, then the normalisation) and backward (dx, dgamma, dbeta).
// Then a ResNet block's tail at the op level, fused (batch_norm2d_relu)
// against the composite it replaces (batch_norm2d -> add -> relu).
#include <cmath>
#include <optional>

#include "bench/bench_common.h"
#include "engine/autograd.h"
#include "engine/ops.h"
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
// Argument relu_mask: dy masked by a ReLU output as it is read (the fused
// op's backward), one more tensor read.
void BM_batch_norm_backward(benchmark::State& state) {
  const bool masked = state.range(0) != 0;
  const std::vector<float> x = normal_buffer(kElems, 1), dy = normal_buffer(kElems, 2),
                           relu_y = normal_buffer(kElems, 3);
  std::vector<float> dx(kElems);
  ChannelParams p;
  dml::cpu::batch_norm_stats<float>(x.data(), kN, kC, kHW, p.mean.data(), p.var.data());
  compute_invstd(p);
  std::vector<float> dgamma(kC), dbeta(kC);
  for (auto _ : state) {
    dml::cpu::batch_norm_backward<float>(dy.data(), masked ? relu_y.data() : nullptr, x.data(), kN,
                                         kC, kHW, p.mean.data(), p.invstd.data(), p.gamma.data(),
                                         /*training=*/true, dx.data(), dgamma.data(), dbeta.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  dml::bench::report_bytes(state, (masked ? 4 : 3) * kElems * kFloat);
}
BENCHMARK(BM_batch_norm_backward)
    ->ArgName("relu_mask")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// A ResNet-50 layer1 bottleneck's last batch norm (256 channels at 56 x 56,
// batch 8: 6.4M floats, 26 MB a tensor), in training mode, through the ops
// and autograd as a model runs it (allocations included). Arguments:
// residual (the block's add) and backward (forward + backward, else forward).
constexpr int64_t kBlockN = 8, kBlockC = 256, kBlockHW = 56;

void block_tail(benchmark::State& state, bool fused) {
  using namespace dml;
  const bool with_residual = state.range(0) != 0, with_backward = state.range(1) != 0;
  const Shape shape{kBlockN, kBlockC, kBlockHW, kBlockHW};
  Generator gen(3);
  const Tensor x = randn(shape, DType::f32, &gen).requires_grad_();
  const Tensor residual =
      with_residual ? randn(shape, DType::f32, &gen).requires_grad_() : Tensor();
  const Tensor weight = ones({kBlockC}).requires_grad_(), bias = zeros({kBlockC}).requires_grad_();
  const Tensor running_mean = zeros({kBlockC}), running_var = ones({kBlockC});
  const Tensor upstream = randn(shape, DType::f32, &gen);
  for (auto _ : state) {
    std::optional<NoGradGuard> no_grad;
    if (!with_backward) no_grad.emplace();
    Tensor y;
    if (fused) {
      y = batch_norm2d_relu(x, weight, bias, running_mean, running_var, true, 0.1, 1e-5, residual);
    } else {
      y = batch_norm2d(x, weight, bias, running_mean, running_var, true);
      y = relu(with_residual ? add(y, residual) : y);
    }
    if (with_backward) {
      y.backward(upstream);
      // Dropped, so the next step assigns the gradients instead of adding.
      for (const Tensor* t : {&x, &residual, &weight, &bias})
        if (t->defined()) t->zero_grad();
    }
    benchmark::DoNotOptimize(y.raw_data());
  }
  const double elems = double(x.numel());
  state.counters["elems/s"] =
      benchmark::Counter(elems, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_block_tail_fused(benchmark::State& state) {
  block_tail(state, true);
}
void BM_block_tail_composite(benchmark::State& state) {
  block_tail(state, false);
}
// {residual, backward}
#define DML_BLOCK_TAIL_ARGS          \
  ArgNames({"residual", "backward"}) \
      ->Args({0, 0})                 \
      ->Args({1, 0})                 \
      ->Args({0, 1})                 \
      ->Args({1, 1})                 \
      ->UseRealTime()                \
      ->Unit(benchmark::kMillisecond)
BENCHMARK(BM_block_tail_composite)->DML_BLOCK_TAIL_ARGS;
BENCHMARK(BM_block_tail_fused)->DML_BLOCK_TAIL_ARGS;
#undef DML_BLOCK_TAIL_ARGS

}  // namespace
