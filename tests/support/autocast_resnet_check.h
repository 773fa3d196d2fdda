#pragma once
// A ResNet trained one step under autocast (engine/autocast.h) against the
// f32 run of the same network, on the CPU (test_bf16_compute,
// test_bf16_activations) and on CUDA (test_cuda_bf16): outputs and every
// parameter's gradient within the bounds argued below. Under autocast the
// backbone's activations are bf16 from the first convolution to the last
// block (nn::ResNet::forward_features); the features are cast to f32 before
// the global pool and the classifier.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/autocast.h"
#include "engine/ops.h"
#include "layers/resnet.h"

namespace dml::test {

// Norm-wise relative difference ||a - b|| / ||b||.
inline double relative_difference(const Tensor& a, const Tensor& b) {
  Tensor a64 = a.detach().to(DType::f64), b64 = b.detach().to(DType::f64);
  return std::sqrt(sum((a64 - b64) * (a64 - b64)).item() / sum(b64 * b64).item());
}

// The network, its input, and the two counts the bounds below scale with.
struct AutocastResNetCase {
  std::string name;
  nn::ResNetConfig config;
  Shape input;
  int path_gemms;  // convolutions and the classifier on the longest path
  int sites;       // rounding sites that perturb the gradients (see below)
};

// small_resnet10 (9 convolutions, 9 batch norms, the classifier).
inline AutocastResNetCase small_resnet10_case() {
  nn::ResNetConfig c = nn::resnet_config("small_resnet10");
  c.num_classes = 10;
  return {"small_resnet10", c, {4, 3, 16, 16}, 7, 40};
}

// A bottleneck ResNet with the 7x7 stride-2 stem and its max pool: two
// stages of one block each (both with a projected shortcut; 9 convolutions).
inline AutocastResNetCase tiny_bottleneck_case() {
  nn::ResNetConfig c;
  c.block = nn::BlockKind::bottleneck;
  c.depths = {1, 1};
  c.widths = {8, 16};
  c.num_classes = 10;
  return {"tiny bottleneck", c, {4, 3, 32, 32}, 8, 44};
}

// The network forward and backward under autocast against the f32 run of
// the same network, in training mode (batch statistics).
//
// Output bound. bf16 keeps 8 significant bits: a rounding has relative error
// at most u = 2^-9 (~0.002). A convolution under autocast rounds its input
// (the batch norm before it writes bf16: the same single rounding), its
// weight and its output (3 roundings: relative error <= 3u per element, up
// to f32 terms); the block's residual, now bf16 too, was rounded where its
// own batch norm wrote it, and max pooling is exact. Batch norm
// renormalises, so relative errors add along the path instead of
// compounding: over the path_gemms convolutions and the classifier of the
// longest path at most path_gemms * 3u (0.041 for 7, 0.047 for 8).
// Independent roundings have independent signs, so the norm-wise error is
// well below that (small_resnet10: measured 0.010-0.017 over six seeds).
//
// Gradient bound. A weight gradient of a freshly initialised network is a sum
// of many terms of both signs that mostly cancel, so it is far more
// sensitive than the output: rounding the input image alone to bf16 (one
// rounding, f32 everywhere else) moves the gradients by 7-11% (measured).
// That response, e_round, is measured in f32 and sets the scale. Linearised,
// the bf16 run perturbs about S = 40 sites (per GEMM layer: its input, weight
// and output, the incoming gradient) by at most u each, with independent
// signs; if each moves the gradients as much as the input rounding does,
// their effects add in quadrature to sqrt(S) * e_round ~ 6.3 * e_round: the
// bound for all gradients together (measured ratio 1.5-2.2),
// 8 * e_round + 4u per parameter (4u: a gradient that is a single rounded
// sum, such as the classifier's bias, has about u of error and e_round = 0),
// and an absolute 0.5 (a gradient still within 30 degrees of the f32 one). A
// broken path (a missing bias, a wrong operand) is off by O(1) in the output;
// a run that silently stayed in f32 is caught by the lower bound on the
// output (f32 rounding is ~1e-7).
inline void expect_autocast_resnet_within_bf16_rounding(
    Device device, const AutocastResNetCase& c = small_resnet10_case()) {
  manual_seed(5);
  auto net = nn::make_resnet(c.config);
  net->to(device);
  Generator gen(11);
  const Tensor x = randn(c.input, DType::f32, &gen).to(device);
  const Tensor r = randn({4, 10}, DType::f32, &gen).to(device);  // the loss: a fixed linear map
  struct Run {
    Tensor y;
    std::vector<Tensor> grads;
  };
  auto run = [&](DType compute, const Tensor& input) {
    net->zero_grad();
    Run out;
    {
      AutocastGuard guard(compute);
      out.y = net->forward(input);
    }
    sum(out.y * r).backward();  // outside the scope, as a training step runs it
    out.y = out.y.detach();
    for (const auto& [name, p] : net->named_parameters()) out.grads.push_back(p.grad().clone());
    return out;
  };
  const Run f32 = run(DType::f32, x), bf16 = run(DType::bf16, x);
  const Run rounded_input = run(DType::f32, x.to(DType::bf16).to(DType::f32));
  ASSERT_EQ(bf16.y.dtype(), DType::f32);
  const double out_err = relative_difference(bf16.y, f32.y);
  const double u = std::ldexp(1.0, -9);
  EXPECT_LT(out_err, c.path_gemms * 3 * u);
  EXPECT_GT(out_err, 1e-4) << "the autocast run matches f32: bf16 did not run";

  const auto names = net->named_parameters();
  auto flat = [](const std::vector<Tensor>& ts) {
    std::vector<Tensor> parts;
    for (const Tensor& t : ts) parts.push_back(t.detach().to(DType::f64).reshape({-1}));
    return concat(parts, 0);
  };
  for (size_t i = 0; i < f32.grads.size(); ++i) {
    ASSERT_EQ(bf16.grads[i].dtype(), DType::f32) << names[i].first;
    const double e = relative_difference(bf16.grads[i], f32.grads[i]);
    const double e_round = relative_difference(rounded_input.grads[i], f32.grads[i]);
    EXPECT_LT(e, 8 * e_round + 4 * u)
        << names[i].first << " (rounded input alone: " << e_round << ")";
    EXPECT_LT(e, 0.5) << names[i].first;
  }
  const double grad_err = relative_difference(flat(bf16.grads), flat(f32.grads));
  const double grad_round = relative_difference(flat(rounded_input.grads), flat(f32.grads));
  EXPECT_LT(grad_err, std::sqrt(double(c.sites)) * grad_round);
  std::printf("%s bf16 vs f32: output %.4f, gradients %.4f (rounded input alone: %.4f)\n",
              c.name.c_str(), out_err, grad_err, grad_round);
}

}  // namespace dml::test
