// CUDA graphs (engine/cuda_graph.h): a captured training step replays like
// the eager step it recorded, random draws and the optimizer's update
// included; what a replay cannot repeat is refused while capturing; and the
// graph's memory is never handed to other work. f64, so replay and eager differ by nothing (the
// same kernels on the same data). Skipped where no GPU is present.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "dml/losses/margin.h"
#include "dml/miners/distance_weighted.h"
#include "engine/cuda_graph.h"
#include "engine/ops.h"
#include "engine/optim/optimizer.h"
#include "kernels/cuda_runtime/check.h"
#include "kernels/cuda_runtime/stream.h"
#include "tests/support/cuda_parity.h"
#include "tests/support/test_support.h"

namespace dml {
namespace {

using test::CudaParity;

Device gpu() {
  return Device::cuda(0);
}

// A step's data: features [12, 16] of 6 classes x 2 on the GPU, and the
// embedding weights l2_normalize(features @ w) is taken through.
struct StepSetup {
  Tensor features, labels, w;
  losses::MarginLoss loss{{}, 0, DType::f64};
  miners::DistanceWeightedMiner miner;
  StepSetup() {
    Generator gen(3);
    features = randn({12, 16}, DType::f64, &gen).to(gpu());
    std::vector<int64_t> y;
    for (int64_t i = 0; i < 12; ++i) y.push_back(i / 2);
    labels = from_vector(y, {12}).to(gpu());
    w = randn({16, 8}, DType::f64, &gen).to(gpu());
    w.requires_grad_();
    loss.to(gpu());
  }
  std::vector<Tensor> parameters() const { return {w, loss.parameters()[0]}; }
  Tensor forward_backward(Generator& gen) {
    Tensor value = loss.forward_mined(l2_normalize(matmul(features, w)), labels, miner, gen);
    value.backward();
    return value;
  }
};

TEST_F(CudaParity, CapturedStepReplaysLikeTheEagerStep) {
  constexpr int kSteps = 4;
  StepSetup eager, captured;
  Generator eager_gen(9), graph_gen(9);
  SGD eager_opt({ParamGroup{.name = "all", .params = eager.parameters(), .lr = 0.1}});
  SGD graph_opt({ParamGroup{.name = "all", .params = captured.parameters(), .lr = 0.1}});
  std::vector<double> eager_losses;
  for (int s = 0; s < kSteps; ++s) {
    eager_opt.zero_grad();
    eager_losses.push_back(eager.forward_backward(eager_gen).item());
    eager_opt.step();
  }
  CudaGraph graph(gpu());
  Tensor loss;
  graph_opt.zero_grad();
  graph.capture([&] { loss = captured.forward_backward(graph_gen); }, &graph_gen);
  EXPECT_EQ(graph_gen.state().offset, 0u) << "a capture draws nothing yet";
  for (int s = 0; s < kSteps; ++s) {
    // Other work between replays takes memory the graph must not share.
    Tensor other = full({12, 8}, 7.0, DType::f64, gpu());
    graph.replay();
    graph_opt.step();
    EXPECT_EQ(loss.item(), eager_losses[size_t(s)]) << "step " << s;
    EXPECT_EQ(amin(other).item(), 7.0) << "step " << s;
  }
  EXPECT_GT(eager_losses.front(), 0);
  EXPECT_NE(eager_losses[0], eager_losses[1]) << "the steps drew different triplets";
  EXPECT_EQ(graph_gen.state().offset, eager_gen.state().offset);
  EXPECT_TRUE(test::all_close(captured.w.to(Device::cpu()), eager.w.to(Device::cpu()), {0, 0}));
}

// The optimizer's update inside the graph: Adam's learning rate changes
// every step (a schedule) and one step is skipped by its flag and not
// committed. The captured run stages before each replay and matches an
// eager run that set the same rates and did not step at the skipped step.
TEST_F(CudaParity, CapturedOptimizerStepFollowsTheStagedRateAndSkips) {
  constexpr int kSteps = 5, kSkipped = 2;
  auto lr = [](int step) { return 0.02 * (step + 1); };
  StepSetup eager, captured;
  Generator eager_gen(9), graph_gen(9);
  Adam eager_opt({ParamGroup{.name = "all", .params = eager.parameters()}});
  Adam graph_opt({ParamGroup{.name = "all", .params = captured.parameters()}});
  std::vector<double> eager_losses;
  for (int s = 0; s < kSteps; ++s) {
    eager_opt.groups()[0].lr = lr(s);
    eager_opt.zero_grad();
    eager_losses.push_back(eager.forward_backward(eager_gen).item());
    if (s != kSkipped) eager_opt.step();
  }
  // Step 0 eagerly (the optimizer's state made and its coefficients staged),
  // then the capture of forward, backward and update, replayed for the rest.
  graph_opt.groups()[0].lr = lr(0);
  graph_opt.zero_grad();
  EXPECT_EQ(captured.forward_backward(graph_gen).item(), eager_losses[0]);
  graph_opt.step();
  Tensor skip = zeros({1}, DType::f32, gpu()), loss;
  CudaGraph graph(gpu());
  graph_opt.zero_grad();
  graph.capture(
      [&] {
        loss = captured.forward_backward(graph_gen);
        graph_opt.launch_step(skip);
      },
      &graph_gen);
  for (int s = 1; s < kSteps; ++s) {
    graph_opt.groups()[0].lr = lr(s);
    copy_into(skip, full({1}, s == kSkipped ? 1.0 : 0.0, DType::f32));
    graph_opt.stage_step();
    graph.replay();
    if (s != kSkipped) graph_opt.commit_step();
    EXPECT_EQ(loss.item(), eager_losses[size_t(s)]) << "step " << s;
  }
  EXPECT_EQ(graph_opt.steps_taken(), eager_opt.steps_taken());
  for (size_t i = 0; i < eager.parameters().size(); ++i)
    EXPECT_TRUE(test::all_close(captured.parameters()[i].to(Device::cpu()),
                                eager.parameters()[i].to(Device::cpu()), {0, 0}))
        << "parameter " << i;
}

TEST_F(CudaParity, WhatAReplayCannotRepeatIsRefusedWhileCapturing) {
  StepSetup s;
  Generator gen(1), other(2);
  const Tensor host = s.features.to(Device::cpu());
  // Gradients but nothing staged (plain SGD has no slots): a launch while
  // capturing has no coefficients to read.
  SGD opt({ParamGroup{.name = "all", .params = s.parameters(), .lr = 0.1}});
  s.forward_backward(gen);
  const std::vector<std::pair<std::string, std::function<void()>>> refused = {
      {"a device-to-host copy",
       [&] {
         s.forward_backward(gen);  // draws from the capture's generator first
         sum(s.features).item();
       }},
      {"a host-to-device copy", [&] { zeros({4}).to(gpu()); }},
      {"a random fill", [&] { rand({4}, DType::f32, &gen, gpu()); }},
      {"generator the capture was not given", [&] { s.forward_backward(other); }},
      {"stage_step() while a CUDA graph is captured", [&] { opt.stage_step(); }},
      {"no stage_step() staged on cuda:0", [&] { opt.launch_step(); }}};
  for (const auto& [what, work] : refused) {
    CudaGraph graph(gpu());
    const uint64_t drawn = gen.state().offset;
    test::expect_error([&] { graph.capture(work, &gen); }, {what});
    EXPECT_FALSE(graph_capturing(gpu())) << what << ": the failed capture was ended";
    EXPECT_EQ(gen.state().offset, drawn) << what << ": nothing ran, nothing was drawn";
    // The device works as before: reads and kernels.
    EXPECT_TRUE(test::all_close(mul(s.features, 2.0).to(Device::cpu()), mul(host, 2.0), {0, 0}))
        << what;
  }
}

// A CUDA call that fails inside a capture (here a raw synchronisation,
// which capture forbids) ends the capture with one error, and leaves no
// stale error behind for the next eager launch to report as its own.
TEST_F(CudaParity, AFailedCudaCallEndsTheCaptureCleanly) {
  StepSetup s;
  CudaGraph graph(gpu());
  test::expect_error(
      [&] { graph.capture([] { DML_CUDA_CHECK(cudaStreamSynchronize(cuda::use_device(0))); }); },
      {"cudaStreamSynchronize"});
  EXPECT_FALSE(graph_capturing(gpu()));
  const Tensor twice = mul(s.features, 2.0);  // launches and checks cudaGetLastError
  EXPECT_TRUE(
      test::all_close(twice.to(Device::cpu()), mul(s.features.to(Device::cpu()), 2.0), {0, 0}));
}

// A block the graph read and the capture freed stays the graph's: eager
// work after the capture gets other memory, and the replays read what the
// block held.
TEST_F(CudaParity, MemoryFreedWhileCapturingStaysTheGraphs) {
  Tensor input = full({4096}, 1.0, DType::f32, gpu()), out;
  CudaGraph graph(gpu());
  graph.capture([&] {
    const Tensor read = std::move(input);  // freed at the end of the capture
    out = mul(read, 2.0);
  });
  const Tensor other = full({4096}, 7.0, DType::f32, gpu());  // the same size class
  for (int r = 0; r < 2; ++r) {
    graph.replay();
    EXPECT_EQ(amax(out).item(), 2.0) << "replay " << r;
    EXPECT_EQ(amin(out).item(), 2.0) << "replay " << r;
    EXPECT_EQ(amin(other).item(), 7.0) << "replay " << r;
  }
}

// While one thread captures a device, another thread's work on it is
// refused (it would be recorded into the graph, or take the graph's
// memory), and it sees the device as being captured.
TEST_F(CudaParity, OtherThreadsCannotUseADeviceBeingCaptured) {
  std::vector<std::string> errors;
  bool seen_capturing = false;
  const Tensor before = full({8}, 5.0, DType::f32, gpu());
  CudaGraph graph(gpu());
  Tensor out;
  graph.capture([&] {
    out = mul(full({8}, 3.0, DType::f32, gpu()), 2.0);
    std::thread other([&] {
      seen_capturing = graph_capturing(gpu());
      for (const auto& work : std::vector<std::function<void()>>{
               [] { Tensor::empty({4}, DType::f32, Device::cuda(0)); },
               [&] { before.to(Device::cpu()); }}) {
        try {
          work();
          errors.emplace_back("no error");
        } catch (const Error& e) {
          errors.emplace_back(e.what());
        }
      }
    });
    other.join();
  });
  EXPECT_TRUE(seen_capturing);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors[0].find("another thread"), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("a device-to-host copy"), std::string::npos) << errors[1];
  graph.replay();
  EXPECT_EQ(amin(out).item(), 6.0);
}

// Draws from the capture's generator between replays would be drawn again
// by the next replay (the device counter moves by the replays' draws only):
// refused.
TEST_F(CudaParity, DrawingFromTheCapturesGeneratorBetweenReplaysIsRefused) {
  StepSetup s;
  Generator gen(4);
  CudaGraph graph(gpu());
  graph.capture([&] { s.forward_backward(gen); }, &gen);
  graph.replay();
  graph.replay();
  gen.reserve(16);
  test::expect_error([&] { graph.replay(); }, {"was drawn from since the last replay"});
}

TEST(CudaGraphHost, NeedsACudaDevice) {
  test::expect_error([] { CudaGraph graph(Device::cpu()); }, {"CudaGraph"});
  EXPECT_FALSE(graph_capturing(Device::cpu()));
}

}  // namespace
}  // namespace dml
