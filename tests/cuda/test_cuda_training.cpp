// Training on CUDA against the CPU backend, above the single ops: every loss
// and every miner of the registries on a CUDA batch, and a whole training
// step of a small ResNet embedding network (forward, loss, backward, Adam).
// All in f64, so the two devices differ only in summation order: the bounds
// are relative to each tensor's largest element (tests/support/cuda_parity.h's
// all_close with abs = 1e-9 x max|x|, rel = 1e-9), far above f64 reordering
// error (~1e-14 for these sizes) and far below any wrong element (O(1)).
// Skipped where no GPU is present.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "dml/losses/registry.h"
#include "dml/miners/registry.h"
#include "dml/train/checkpoint.h"
#include "dml/train/config.h"
#include "dml/train/trainer.h"
#include "engine/ops.h"
#include "engine/optim/optimizer.h"
#include "fairness/experiment.h"
#include "fairness/parade_training.h"
#include "layers/embedding_head.h"
#include "tests/support/cuda_parity.h"
#include "tests/support/dataset_fixtures.h"
#include "tests/support/e2e_support.h"

namespace dml {
namespace {

using test::all_close;
using test::CudaParity;
using test::Tolerance;

Device gpu() {
  return Device::cuda(0);
}

// 1e-9 of the tensor's largest magnitude, and 1e-9 relative.
Tolerance scaled_bound(const Tensor& reference) {
  double largest = 0;
  for (double v : reference.detach().to(DType::f64).to_vector<double>())
    largest = std::max(largest, std::abs(v));
  return {1e-9 * largest + 1e-300, 1e-9};
}

void expect_close(const Tensor& cuda_t, const Tensor& cpu_t, const std::string& what) {
  ASSERT_TRUE(cuda_t.defined() && cpu_t.defined()) << what;
  EXPECT_EQ(cuda_t.device(), gpu()) << what;
  EXPECT_TRUE(all_close(cuda_t.to(Device::cpu()), cpu_t, scaled_bound(cpu_t))) << what;
}

// A batch of 4 classes x 3: features [12, 16] and labels, f64.
struct Batch {
  Tensor features, labels;
};
Batch make_batch(uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < 12; ++i) labels.push_back(i / 3);
  return {randn({12, 16}, DType::f64, &gen), from_vector(labels, {12})};
}

// Embeddings l2_normalize(features @ w) with w a leaf on the given device.
struct Embedder {
  Tensor w;
  Embedder(const Tensor& init, Device device) : w(init.detach().to(device)) { w.requires_grad_(); }
  Tensor operator()(const Tensor& features) { return l2_normalize(matmul(features, w)); }
};

TEST_F(CudaParity, EveryLossGivesTheCpuValueAndGradients) {
  const Batch batch = make_batch(3);
  Generator init_gen(4);
  const Tensor w0 = randn({16, 8}, DType::f64, &init_gen);
  for (const std::string& name : losses::loss_names()) {
    SCOPED_TRACE(name);
    // Same seed on both sides: proxies start equal.
    Generator cpu_gen(5), cuda_gen(5);
    auto cpu_loss =
        losses::make_loss(name, {.num_classes = 4, .embedding_dim = 8, .gen = &cpu_gen});
    auto cuda_loss =
        losses::make_loss(name, {.num_classes = 4, .embedding_dim = 8, .gen = &cuda_gen});
    cuda_loss->to(gpu());
    Embedder cpu_embed(w0, Device::cpu()), cuda_embed(w0, gpu());
    Tensor want = cpu_loss->forward(cpu_embed(batch.features), batch.labels);
    Tensor got = cuda_loss->forward(cuda_embed(batch.features.to(gpu())), batch.labels);
    expect_close(got, want, "loss value");
    want.backward();
    got.backward();
    expect_close(cuda_embed.w.grad(), cpu_embed.w.grad(), "gradient of the embedding weights");
    const auto& cpu_params = cpu_loss->named_parameters();
    const auto& cuda_params = cuda_loss->named_parameters();
    ASSERT_EQ(cpu_params.size(), cuda_params.size());
    for (size_t i = 0; i < cpu_params.size(); ++i) {
      EXPECT_EQ(cuda_params[i].second.device(), gpu()) << cpu_params[i].first;
      if (cpu_params[i].second.grad().defined())
        expect_close(cuda_params[i].second.grad(), cpu_params[i].second.grad(),
                     "gradient of loss parameter " + cpu_params[i].first);
    }
  }
}

// Miners read the embeddings on the CPU in f64; given the same values on a
// CUDA tensor they must choose the same tuples (and draw the same random
// ones from equal generators).
TEST_F(CudaParity, EveryMinerChoosesTheCpuTuples) {
  const Batch batch = make_batch(6);
  Generator init_gen(7);
  const Tensor embeddings =
      l2_normalize(matmul(batch.features, randn({16, 8}, DType::f64, &init_gen)));
  for (const std::string& name : miners::miner_names()) {
    SCOPED_TRACE(name);
    auto miner = miners::make_miner(name);
    Generator cpu_gen(8), cuda_gen(8);
    miners::MinedTuples want = miner->mine(embeddings, batch.labels, cpu_gen);
    miners::MinedTuples got = miner->mine(embeddings.to(gpu()), batch.labels, cuda_gen);
    EXPECT_EQ(got.kind, want.kind);
    auto same = [](const Tensor& a, const Tensor& b, const char* what) {
      ASSERT_EQ(a.defined(), b.defined()) << what;
      if (!a.defined()) return;
      EXPECT_EQ(a.to(Device::cpu()).to_vector<int64_t>(), b.to_vector<int64_t>()) << what;
    };
    same(got.pos_anchor, want.pos_anchor, "pos_anchor");
    same(got.positive, want.positive, "positive");
    same(got.neg_anchor, want.neg_anchor, "neg_anchor");
    same(got.negative, want.negative, "negative");
    same(got.anchor, want.anchor, "anchor");
    same(got.triplet_positive, want.triplet_positive, "triplet_positive");
    same(got.triplet_negative, want.triplet_negative, "triplet_negative");
  }
}

// The fused margin loss on distance-weighted triplets (the trainer's path for
// that pair): the same triplets, value and gradients of the embeddings and
// of beta on the GPU as on the CPU, shared and per-class beta, f64 and f32
// (inside, both compute in f64 and round once at the end).
TEST_F(CudaParity, FusedMarginLossGivesTheCpuValueAndGradients) {
  const Batch batch = make_batch(9);
  Generator init_gen(10);
  const Tensor w0 = randn({16, 8}, DType::f64, &init_gen);
  for (const bool per_class : {false, true})
    for (const DType dtype : {DType::f64, DType::f32}) {
      SCOPED_TRACE(
          detail::concat(per_class ? "per-class beta " : "shared beta ", dtype_name(dtype)));
      auto make = [&] {
        return losses::make_loss("margin", {.num_classes = 4},
                                 {{"per_class_beta", per_class ? 1.0 : 0.0}, {"nu", 0.01}});
      };
      auto cpu_loss = make(), cuda_loss = make();
      cuda_loss->to(gpu());
      auto miner = miners::make_miner("distance_weighted");
      const Tensor w = w0.to(dtype);
      Embedder cpu_embed(w, Device::cpu()), cuda_embed(w, gpu());
      Generator cpu_gen(11), cuda_gen(11);
      const Tensor features = batch.features.to(dtype);
      Tensor want = cpu_loss->forward_mined(cpu_embed(features), batch.labels, *miner, cpu_gen);
      Tensor got =
          cuda_loss->forward_mined(cuda_embed(features.to(gpu())), batch.labels, *miner, cuda_gen);
      EXPECT_GT(want.item(), 0);
      want.backward();
      got.backward();
      // f32: the embeddings already differ by the GEMMs' rounding (cuBLAS vs ours).
      const double rel = dtype == DType::f64 ? 1e-12 : 1e-5;
      auto expect = [&](const Tensor& cuda_t, const Tensor& cpu_t, const char* what) {
        test::expect_matches_cpu(cuda_t, cpu_t, {rel * test::max_abs(cpu_t), rel}, what);
      };
      expect(got, want, "loss value");
      expect(cuda_embed.w.grad(), cpu_embed.w.grad(), "gradient of the embedding weights");
      expect(cuda_loss->parameters()[0].grad(), cpu_loss->parameters()[0].grad(),
             "gradient of beta");
    }
}

// One training step of a small ResNet embedding network in train mode
// (convolutions through cuDNN, batch statistics, pooling, the head): the
// embeddings, the margin loss on distance-weighted triplets, every parameter
// gradient, the parameters after one SGD step and the BN running statistics
// match the CPU's. (SGD, not Adam: Adam's first step moves a parameter by
// about lr * sign(g), so a gradient that is zero up to rounding would move
// by +-lr on the two devices.)
TEST_F(CudaParity, ResNetTrainingStepMatchesTheCpu) {
  auto make_net = [] {
    manual_seed(11);
    auto net = std::make_shared<nn::EmbeddingNet>(
        nn::make_resnet("small_resnet10", 0),
        nn::EmbeddingHeadConfig{.in_features = 256, .embedding_dim = 16});
    net->to(DType::f64);
    return net;
  };
  auto cpu_net = make_net(), cuda_net = make_net();
  cuda_net->to(gpu());
  Generator data_gen(12);
  const Tensor images = randn({8, 3, 20, 20}, DType::f64, &data_gen);
  const Tensor labels = from_vector(std::vector<int64_t>{0, 0, 1, 1, 2, 2, 3, 3}, {8});

  auto step = [&](nn::EmbeddingNet& net, const Tensor& x, Tensor& embeddings) {
    auto loss = losses::make_loss("margin", {});
    loss->to(x.device());
    auto miner = miners::make_miner("distance_weighted");
    Generator gen(13);
    SGD opt({ParamGroup{.name = "model", .params = net.parameters(), .lr = 0.1}});
    embeddings = net.forward(x);
    Tensor l = loss->forward_mined(embeddings, labels, *miner, gen);
    l.backward();
    opt.step();
    return l;
  };
  Tensor cpu_embeddings, cuda_embeddings;
  Tensor want = step(*cpu_net, images, cpu_embeddings);
  Tensor got = step(*cuda_net, images.to(gpu()), cuda_embeddings);
  expect_close(cuda_embeddings, cpu_embeddings, "embeddings");
  expect_close(got, want, "loss");
  auto cpu_state = cpu_net->state_dict(), cuda_state = cuda_net->state_dict();
  ASSERT_EQ(cpu_state.size(), cuda_state.size());
  for (size_t i = 0; i < cpu_state.size(); ++i) {
    ASSERT_EQ(cpu_state[i].first, cuda_state[i].first);
    expect_close(cuda_state[i].second, cpu_state[i].second, cpu_state[i].first);
    const Tensor& g = cpu_state[i].second.grad();
    if (g.defined())
      expect_close(cuda_state[i].second.grad(), g, "gradient of " + cpu_state[i].first);
  }
}

// `dml train` with train.device=cuda on the bundled benchmark, plain and with
// PARADE: the run completes, its checkpoint holds the trained tensors (saved
// from the device), and its numbers follow the CPU run of the same config.
// In f32 the two devices' rounding differs from the first step on, and
// cuDNN's backward algorithms and the index kernels' atomics add in no fixed
// order, so the runs are close, not equal: 3 steps of lr 1e-3 keep the mean
// loss within 2% and Recall@1 within 0.05 (3% of 300 queries is 9 queries
// changing their nearest neighbour).
TEST_F(CudaParity, TrainerRunsOnCudaLikeOnTheCpu) {
  if (!test::have_fashion_mnist()) GTEST_SKIP() << "Fashion-MNIST is not installed";
  test::TempDir dir;
  for (const bool parade : {false, true}) {
    SCOPED_TRACE(parade ? "PARADE" : "baseline");
    auto run = [&](const std::string& device) {
      const std::string output = dir.file(device + (parade ? "-parade" : "-baseline"));
      std::vector<std::string> sets = {"train.epochs=1",        "train.max_steps_per_epoch=3",
                                       "eval.limit=300",        "eval.clustering=false",
                                       "train.threads=1",       "train.device=" + device,
                                       "train.output=" + output};
      Json base = parade ? fairness::findml_default_config() : Json::object();
      if (!parade) sets.push_back("loss.miner=distance_weighted");
      const Json config = train::resolve_config(base, sets, "test_cuda_training");
      Json metrics = train::run_training(
          config, {.extension = parade ? train::ExtensionFactory(fairness::make_parade_extension)
                                       : train::ExtensionFactory()});
      train::load_checkpoint(output + "/checkpoint.safetensors");  // readable, complete
      return metrics;
    };
    const Json cpu = run("cpu"), cuda = run("cuda");
    EXPECT_NEAR(cuda["loss"].get<double>(), cpu["loss"].get<double>(),
                0.02 * std::abs(cpu["loss"].get<double>()));
    EXPECT_NEAR(cuda["recall@1"].get<double>(), cpu["recall@1"].get<double>(), 0.05);
  }
}

// train.cuda_graph: the epoch's first step eager, the second captured, the
// rest replayed (two epochs: captured anew with each epoch's draws), against
// the same run stepped eagerly. The replays run the kernels the eager steps
// run on the same data and draws, so the runs agree but for cuDNN's backward
// algorithms, which may add in no fixed order: the loss within 1e-4, every
// parameter within 1e-4 of its scale.
TEST_F(CudaParity, TrainerCapturesTheStepAndTrainsAsEagerly) {
  test::TempDir dir;
  const Json data = {{"format", "fashion_mnist"}, {"root", test::make_fashion_mnist(dir)}};
  auto run = [&](bool graph) {
    const std::string output = dir.file(graph ? "graph" : "eager");
    std::vector<std::string> sets = test::tiny_run_settings();
    for (const std::string& s :
         {std::string("train.epochs=2"), std::string("train.max_steps_per_epoch=5"),
          std::string("loss.name=margin"), std::string("loss.miner=distance_weighted"),
          std::string("train.device=cuda"),
          "train.cuda_graph=" + std::string(graph ? "true" : "false"), "train.output=" + output})
      sets.push_back(s);
    const Json metrics =
        train::run_training(train::resolve_config({{"data", data}}, sets, "test_cuda_training"));
    return std::pair{metrics, train::load_checkpoint(output + "/checkpoint.safetensors")};
  };
  const auto [eager, eager_state] = run(false);
  const auto [graph, graph_state] = run(true);
  EXPECT_NEAR(graph["loss"].get<double>(), eager["loss"].get<double>(),
              1e-4 * std::abs(eager["loss"].get<double>()));
  for (const auto& [kept, eager_kept] : {std::pair{&graph_state.model, &eager_state.model},
                                         std::pair{&graph_state.loss, &eager_state.loss}}) {
    ASSERT_EQ(kept->size(), eager_kept->size());
    for (size_t i = 0; i < kept->size(); ++i) {
      const Tensor& want = (*eager_kept)[i].second;
      if (!is_floating(want.dtype())) continue;
      EXPECT_TRUE(all_close((*kept)[i].second, want, {1e-4 * test::max_abs(want), 1e-4}))
          << (*eager_kept)[i].first;
    }
  }
}

}  // namespace
}  // namespace dml
