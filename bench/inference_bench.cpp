// Inference throughput of an embedding network (ResNet backbone without its
// classifier, a pooling, Linear to --dim, L2 normalisation) on the CPU:
// `--path inference` runs layers/inference_model.h (folded batch norm, NHWC,
// planned memory), `--path training` the training engine's eval-mode forward
// under NoGradGuard (the same weights), for comparison. Weights come from
// --weights (a safetensors file with the exported model's names, as
// bench/compare_inference_torch.py writes it) or are the seeded
// initialisation; the images are --input (an .npy file [batch, channels,
// image, image]) or seeded normal noise, and --output writes the embeddings
// (.npy) for a comparison of values. Prints one JSON line: median seconds per batch over
// --repeats, images per second, peak RSS while embedding and its increase over
// the process after loading the model (the peak is reset after loading, so the
// load's own transient copies are not counted), and the planned workspace;
// also the median CPU time of a call (every thread's user + system time): on a
// machine shared with other work it moves less than the wall time.
#include <omp.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "engine/autograd.h"
#include "engine/npy.h"
#include "engine/ops.h"
#include "engine/rng.h"
#include "engine/safetensors.h"
#include "layers/embedding_head.h"
#include "layers/inference_model.h"

namespace {

using namespace dml;

// A field of /proc/self/status ("VmRSS", "VmHWM"), in bytes.
double status_bytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string key;
  double kib = 0;
  while (status >> key) {
    if (key == field + ":") {
      status >> kib;
      return kib * 1024.0;
    }
    status.ignore(1 << 20, '\n');
  }
  return 0;
}

// User + system CPU time of every thread of the process so far, in seconds.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Resets the peak RSS (VmHWM) to the current RSS.
void reset_peak_rss() {
  std::ofstream("/proc/self/clear_refs") << "5";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Times the inference path of an embedding network"};
  std::string model = "resnet50", path = "inference", weights, input, output;
  int64_t image = 224, batch = 32, channels = 3, dim = 128, repeats = 5, warmup = 1;
  int threads = 0;
  app.add_option("--model", model, "resnet18, resnet50, small_resnet10, ...")
      ->capture_default_str();
  app.add_option("--image", image, "Image side in pixels")->capture_default_str();
  app.add_option("--batch", batch, "Images per call")->capture_default_str();
  app.add_option("--channels", channels, "Input channels")->capture_default_str();
  app.add_option("--dim", dim, "Embedding size")->capture_default_str();
  app.add_option("--repeats", repeats, "Timed calls")->capture_default_str();
  app.add_option("--warmup", warmup, "Untimed calls first")->capture_default_str();
  app.add_option("--threads", threads, "OpenMP threads (0: default)");
  app.add_option("--path", path, "inference or training")->capture_default_str();
  app.add_option("--weights", weights, "safetensors file with the model's tensors");
  app.add_option("--input", input, ".npy images [batch, channels, image, image]");
  app.add_option("--output", output, ".npy file for the embeddings [batch, dim]");
  CLI11_PARSE(app, argc, argv);
  try {
    DML_CHECK(path == "inference" || path == "training", "--path: '", path,
              "'; use inference or training");
    if (threads > 0) omp_set_num_threads(threads);
    manual_seed(0);
    nn::InferenceArchitecture arch{
        .backbone = model, .in_channels = channels, .embedding_dim = dim};
    nn::ResNetConfig config = nn::resnet_config(model);
    config.in_channels = channels;
    config.num_classes = 0;
    std::unique_ptr<nn::InferenceModel> inference;
    std::unique_ptr<nn::EmbeddingNet> net;
    {
      NamedTensors tensors;
      if (!weights.empty()) tensors = read_safetensors(weights).tensors;
      if (path == "training" || weights.empty()) {
        net = std::make_unique<nn::EmbeddingNet>(nn::make_resnet(config),
                                                 nn::EmbeddingHeadConfig{.embedding_dim = dim});
        if (!weights.empty()) net->load_state_dict(tensors, /*strict=*/false);
        net->eval();
        if (weights.empty()) tensors = net->state_dict();
      }
      if (path == "inference") {
        inference = std::make_unique<nn::InferenceModel>(arch, tensors);
        net.reset();
      }
    }
    const Tensor x = input.empty() ? randn({batch, channels, image, image}) : read_npy(input);
    DML_CHECK(x.shape() == Shape({batch, channels, image, image}) && x.dtype() == DType::f32,
              "--input: ", describe(x), " must be f32 [", batch, ", ", channels, ", ", image, ", ",
              image, "]");
    Tensor embeddings = zeros({batch, dim});
    float* const out = embeddings.data<float>();
    const double rss_loaded = status_bytes("VmRSS");
    reset_peak_rss();
    std::vector<double> times, cpu_times;
    for (int64_t r = 0; r < warmup + repeats; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      const double c0 = cpu_seconds();
      if (inference) {
        inference->embed(x.data<float>(), batch, image, image, out);
      } else {
        NoGradGuard no_grad;
        Tensor e = net->forward(x);
        std::copy_n(e.data<float>(), batch * dim, out);
      }
      if (r >= warmup) {
        times.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        cpu_times.push_back(cpu_seconds() - c0);
      }
    }
    std::sort(times.begin(), times.end());
    const double median = times[times.size() / 2];
    std::sort(cpu_times.begin(), cpu_times.end());
    const double cpu_median = cpu_times[cpu_times.size() / 2];
    const double peak = status_bytes("VmHWM");
    if (!output.empty()) write_npy(output, embeddings);
    std::printf(
        "{\"engine\": \"dml\", \"path\": \"%s\", \"model\": \"%s\", \"image\": %lld, "
        "\"batch\": %lld, \"channels\": %lld, \"threads\": %d, \"median_s\": %.5f, "
        "\"img_per_s\": %.3f, \"latency_ms\": %.3f, \"cpu_s\": %.5f, \"peak_rss_bytes\": %.0f, "
        "\"rss_increase_bytes\": %.0f, \"workspace_bytes\": %lld}\n",
        path.c_str(), model.c_str(), static_cast<long long>(image), static_cast<long long>(batch),
        static_cast<long long>(channels), omp_get_max_threads(), median, double(batch) / median,
        median * 1e3, cpu_median, peak, peak - rss_loaded,
        static_cast<long long>(inference ? inference->workspace_bytes() : 0));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "inference_bench: error: %s\n", e.what());
    return 1;
  }
}
