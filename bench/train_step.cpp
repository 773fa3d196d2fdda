// End-to-end DML training step: an embedding network (ResNet backbone without
// its classifier, average pooling, Linear to 128, L2 normalisation), a
// contrastive loss on squared distances over an m-per-class batch (2 images
// per class), backward, Adam. Prints one JSON line: the median step time,
// images per second and peak memory. bench/compare_train_step.py runs the
// same step in PyTorch beside it.
#include <omp.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <vector>

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Times a DML training step (forward, loss, backward, Adam)"};
  std::string model = "resnet18";
  int64_t image = 64, batch = 32, steps = 10, warmup = 2;
  int threads = 0;
  app.add_option("--model", model, "resnet18, resnet50, ...")->capture_default_str();
  app.add_option("--image", image, "Image side in pixels")->capture_default_str();
  app.add_option("--batch", batch, "Images per step (2 per class)")->capture_default_str();
  app.add_option("--steps", steps, "Timed steps")->capture_default_str();
  app.add_option("--warmup", warmup, "Untimed steps first")->capture_default_str();
  app.add_option("--threads", threads, "OpenMP threads (0: default)");
  CLI11_PARSE(app, argc, argv);
  try {
    if (threads > 0) omp_set_num_threads(threads);
    manual_seed(0);
    nn::EmbeddingNet net(nn::make_resnet(model, 0), {.embedding_dim = 128});
    Adam opt({ParamGroup{.name = "model", .params = net.parameters(), .lr = 1e-4}});
    Tensor x = randn({batch, 3, image, image});
    Tensor labels = from_vector(std::vector<int64_t>(size_t(batch)), {batch});
    for (int64_t i = 0; i < batch; ++i) labels.data<int64_t>()[i] = i / 2;
    const double rss_setup = rss_bytes();

    std::vector<double> times;
    double loss = 0;
    for (int64_t s = 0; s < warmup + steps; ++s) {
      if (s == warmup) reset_cpu_peak();
      auto t0 = std::chrono::steady_clock::now();
      opt.zero_grad();
      Tensor l = contrastive_loss(net.forward(x), labels);
      l.backward();
      opt.step();
      loss = l.item();
      if (s >= warmup)
        times.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    const double median = times[times.size() / 2];
    std::printf(
        "{\"engine\": \"dml\", \"model\": \"%s\", \"image\": %lld, \"batch\": %lld, "
        "\"threads\": %d, \"median_s\": %.5f, \"img_per_s\": %.3f, \"loss\": %.6f, "
        "\"peak_tensor_bytes\": %.0f, \"peak_rss_bytes\": %.0f, \"step_rss_bytes\": %.0f}\n",
        model.c_str(), static_cast<long long>(image), static_cast<long long>(batch),
        omp_get_max_threads(), median, double(batch) / median, loss,
        double(cpu_memory_stats().peak_bytes_in_use), peak_rss_bytes(),
        peak_rss_bytes() - rss_setup);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_step: error: %s\n", e.what());
    return 1;
  }
}
