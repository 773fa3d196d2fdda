// End-to-end DML training step: an embedding network (ResNet backbone without
// its classifier, average pooling, Linear to 128, L2 normalisation) over an
// m-per-class batch (2 images per class), a loss, backward, Adam. Losses:
// "contrastive" (squared distances, margin 1, every pair; the CPU comparison),
// "margin" (the DML protocol's: margin loss with learnable beta on the
// triplets of the distance-weighted miner, fused into one kernel chain as the
// trainer runs it) and "margin_composite" (the same with the host miner and
// the loss's separate ops). On CPU or a CUDA device (--device cuda).
// --precision: f32; tf32 (cuBLAS and cuDNN may use TF32 for f32 products;
// CUDA only; --tf32 is the same); bf16 (the network's forward under
// AutocastGuard(DType::bf16): convolutions and linear layers compute in bf16
// with f32 master weights, the loss stays f32, as torch.autocast around the
// model does). --cuda-graph (CUDA; contrastive or margin): after the warm-up,
// forward, loss, backward and Adam's update are captured once in a CUDA graph
// (engine/cuda_graph.h) and each timed step is the staging of Adam's
// coefficients and one replay. --channels-last: the backbone's activations in
// NHWC. --eval: instead of the training step, the embedding network's
// forward alone, in eval mode (batch norm on its running statistics) with no
// gradient recorded and no loss, under autocast for bf16: what embedding a
// gallery costs. Prints one JSON line: the median step time, images per second
// and peak memory. bench/compare_train_step.py runs the same step in PyTorch
// beside it.
#include <omp.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

#include "dml/losses/registry.h"
#include "dml/miners/registry.h"
#include "engine/allocator.h"
#include "engine/autocast.h"
#include "engine/autograd.h"
#include "engine/cuda_graph.h"
#include "engine/math_mode.h"
#include "engine/ops.h"
#include "engine/optim/optimizer.h"
#include "layers/embedding_head.h"

namespace {

using namespace dml;

// Resident set size now, from /proc/self/statm, in bytes.
double rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  double pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * 4096.0;
}

double peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) * 1024.0;
}

// Pulls same-class pairs together and pushes other pairs beyond margin 1.
Tensor contrastive_loss(const Tensor& embeddings, const Tensor& labels) {
  const int64_t n = embeddings.size(0);
  Tensor d2 = pairwise_distance(embeddings, embeddings, Distance::squared_euclidean);
  Tensor same = eq(labels.unsqueeze(1), labels.unsqueeze(0)).to(DType::f32);
  Tensor eye = one_hot(arange(n), n);
  Tensor pos = same - eye, neg = 1.0 - same;
  return sum(pos * d2) / sum(pos) + sum(neg * relu(1.0 - d2)) / sum(neg);
}

// The step's loss: the contrastive loss above, or the protocol's margin loss
// on distance-weighted triplets: fused (the trainer's path) or, with
// margin_composite, the miner on the host and the loss as separate ops.
class StepLoss {
 public:
  explicit StepLoss(const std::string& name) : fused_(name == "margin") {
    DML_CHECK(name == "contrastive" || name == "margin" || name == "margin_composite", "--loss: '",
              name, "' is not a bench loss; use contrastive, margin or margin_composite");
    if (name != "contrastive") {
      loss_ = losses::make_loss("margin", {});
      miner_ = miners::make_miner("distance_weighted");
    }
  }
  Generator& generator() { return gen_; }
  std::vector<Tensor> parameters() const {
    return loss_ ? loss_->parameters() : std::vector<Tensor>{};
  }
  void to(Device device) {
    if (loss_) loss_->to(device);
  }
  Tensor operator()(const Tensor& embeddings, const Tensor& labels) {
    if (!loss_) return contrastive_loss(embeddings, labels.to(embeddings.device()));
    // Composite: the base class's forward_mined, which MarginLoss overrides.
    return fused_ ? loss_->forward_mined(embeddings, labels, *miner_, gen_)
                  : loss_->losses::Loss::forward_mined(embeddings, labels, *miner_, gen_);
  }

 private:
  bool fused_;
  std::unique_ptr<losses::Loss> loss_;
  std::unique_ptr<miners::Miner> miner_;
  Generator gen_{0};
};

// Bytes the run's tensors peaked at on the device the step ran on.
double peak_tensor_bytes(Device device) {
  const MemoryStats stats =
      device.is_cuda() ? cuda_allocator(device.index).stats() : cpu_memory_stats();
  return double(stats.peak_bytes_in_use);
}

void reset_peak(Device device) {
  if (device.is_cuda()) return cuda_allocator(device.index).reset_peak();
  reset_cpu_peak();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Times a DML training step (forward, loss, backward, Adam)"};
  std::string model = "resnet18", device_name = "cpu", loss_name = "contrastive";
  std::string precision = "f32";
  bool tf32 = false, cuda_graph = false, channels_last = false, eval = false;
  int64_t image = 64, batch = 32, steps = 10, warmup = 2;
  int threads = 0;
  app.add_option("--model", model, "resnet18, resnet50, ...")->capture_default_str();
  app.add_option("--image", image, "Image side in pixels")->capture_default_str();
  app.add_option("--batch", batch, "Images per step (2 per class)")->capture_default_str();
  app.add_option("--steps", steps, "Timed steps")->capture_default_str();
  app.add_option("--warmup", warmup, "Untimed steps first")->capture_default_str();
  app.add_option("--threads", threads, "OpenMP threads (0: default)");
  app.add_option("--device", device_name, "cpu or cuda (cuda:N)")->capture_default_str();
  app.add_option("--loss", loss_name, "contrastive, margin (fused) or margin_composite")
      ->capture_default_str();
  app.add_option("--precision", precision,
                 "f32, tf32 (TF32 in cuBLAS and cuDNN, CUDA only) or bf16 (autocast)")
      ->check(CLI::IsMember({"f32", "tf32", "bf16"}))
      ->capture_default_str();
  app.add_flag("--tf32", tf32, "Same as --precision tf32");
  app.add_flag("--channels-last", channels_last,
               "The backbone's activations in NHWC (ResNet::set_channels_last)");
  app.add_flag("--eval", eval,
               "Time the embedding network's no-grad forward in eval mode instead of the "
               "training step (no loss, no optimizer)");
  app.add_flag("--cuda-graph", cuda_graph,
               "After the warm-up, capture forward, loss, backward and Adam's update in a CUDA "
               "graph and time replays");
  CLI11_PARSE(app, argc, argv);
  try {
    DML_CHECK(!tf32 || precision != "bf16", "--tf32 and --precision bf16 contradict; pick one");
    if (tf32) precision = "tf32";
    if (threads > 0) omp_set_num_threads(threads);
    const Device device = parse_device(device_name);
    DML_CHECK(precision != "tf32" || device.is_cuda(),
              "--precision tf32: TF32 is a CUDA math mode; use --device cuda");
#ifdef DML_WITH_CUDA
    set_allow_tf32(precision == "tf32");
#else
    DML_CHECK(!device.is_cuda(), "--device ", device_name,
              ": this build has no CUDA backend (configure with -DDML_CUDA=ON)");
#endif
    // The network's forward computes in this dtype (autocast); f32 is off.
    const DType compute = precision == "bf16" ? DType::bf16 : DType::f32;
    manual_seed(0);
    nn::EmbeddingNet net(nn::make_resnet(model, 0), {.embedding_dim = 128});
    StepLoss step_loss(loss_name);
    net.to(device);
    net.backbone().set_channels_last(channels_last);
    step_loss.to(device);
    Adam opt({ParamGroup{.name = "model", .params = net.parameters(), .lr = 1e-4},
              ParamGroup{.name = "loss", .params = step_loss.parameters(), .lr = 5e-3}});
    Tensor x = randn({batch, 3, image, image}).to(device);
    Tensor labels = from_vector(std::vector<int64_t>(size_t(batch)), {batch});
    for (int64_t i = 0; i < batch; ++i) labels.data<int64_t>()[i] = i / 2;
    DML_CHECK(!(eval && cuda_graph), "--eval and --cuda-graph: the graph captures a training step");
    if (eval) net.eval();
    DML_CHECK(!cuda_graph || (device.is_cuda() && loss_name != "margin_composite"),
              "--cuda-graph: needs --device cuda and a loss without host reads (contrastive "
              "or margin, not margin_composite)");
    const Tensor device_labels = labels.to(device);
    const double rss_setup = rss_bytes();

    // Forward, loss and backward of one step into `l` (gradients set, not
    // added: the optimizer cleared them).
    auto forward_backward = [&](Tensor& l) {
      Tensor embeddings;
      {
        AutocastGuard autocast(compute);
        embeddings = net.forward(x);
      }
      l = step_loss(embeddings, cuda_graph ? device_labels : labels);
      l.backward();
    };
    // The forward alone, no history kept; `l` is the embeddings' sum (a
    // checksum whose read waits for the device).
    auto embed = [&](Tensor& l) {
      NoGradGuard no_grad;
      AutocastGuard autocast(compute);
      l = sum(net.forward(x).to(DType::f32));
    };
    std::unique_ptr<CudaGraph> graph;
    Tensor captured_loss;
    std::vector<double> times;
    double loss = 0;
    for (int64_t s = 0; s < warmup + steps; ++s) {
      if (s == warmup) {
        reset_peak(device);  // before a capture: its allocations are the step's
        // Captured after the warm-up (cuDNN's algorithms chosen, the
        // optimizer's state allocated); the replays write the gradients the
        // capture created, so they are not cleared between steps.
        if (cuda_graph) {
          opt.zero_grad();
          graph = std::make_unique<CudaGraph>(device);
          graph->capture(
              [&] {
                forward_backward(captured_loss);
                opt.launch_step();
              },
              &step_loss.generator());
        }
      }
      auto t0 = std::chrono::steady_clock::now();
      Tensor l;
      if (graph) {
        opt.stage_step();
        graph->replay();
        opt.commit_step();
        l = captured_loss;
      } else if (eval) {
        embed(l);
      } else {
        opt.zero_grad();
        forward_backward(l);
        opt.step();
      }
      loss = l.item();  // waits for the device: the step's work is inside the timing
      if (s >= warmup)
        times.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    const double median = times[times.size() / 2];
    std::printf(
        "{\"engine\": \"dml\", \"model\": \"%s\", \"image\": %lld, \"batch\": %lld, "
        "\"device\": \"%s\", \"loss\": \"%s\", \"precision\": \"%s\", \"tf32\": %s, "
        "\"cuda_graph\": %s, \"channels_last\": %s, \"eval\": %s, \"threads\": %d, "
        "\"median_s\": %.5f, \"img_per_s\": %.3f, \"loss_value\": %.6f, "
        "\"peak_tensor_bytes\": %.0f, \"peak_rss_bytes\": %.0f, \"step_rss_bytes\": %.0f}\n",
        model.c_str(), static_cast<long long>(image), static_cast<long long>(batch),
        device.str().c_str(), loss_name.c_str(), precision.c_str(),
        precision == "tf32" ? "true" : "false", cuda_graph ? "true" : "false",
        channels_last ? "true" : "false", eval ? "true" : "false", omp_get_max_threads(), median,
        double(batch) / median, loss, peak_tensor_bytes(device), peak_rss_bytes(),
        peak_rss_bytes() - rss_setup);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_step: error: %s\n", e.what());
    return 1;
  }
}
