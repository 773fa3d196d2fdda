// Inference throughput of an embedding network on the CPU, as a deployment
// runs it: `--path api` opens --model-file (an exported model, what `dml
// train` writes) with the C API (dml_model_open) and embeds a float NCHW
// batch with dml_embed_tensor; `--path training` loads the same file into the
// training engine (dml/train/model_factory.h) and runs its eval-mode forward
// under NoGradGuard, for comparison. The file describes the network; the
// images are --input (an .npy file [batch, channels, image, image] at the
// model's input size) or seeded normal noise, and --output writes the
// embeddings (.npy) for a comparison of values. Prints one JSON line: median
// seconds per batch over --repeats, images per second, peak RSS while
// embedding and its increase over the process after loading the model (the
// peak is reset after loading, so the load's own transient copies are not
// counted); also the median CPU time of a call (every thread's user + system
// time): on a machine shared with other work it moves less than the wall time.
#include <omp.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/dml.h"
#include "base/error.h"
#include "bench/process_status.h"
#include "dml/train/model_factory.h"
#include "engine/autograd.h"
#include "engine/npy.h"
#include "engine/ops.h"
#include "engine/rng.h"

namespace {

using namespace dml;
using bench::check_status;

// User + system CPU time of every thread of the process so far, in seconds.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// What the benchmark needs of a loaded model: its input, its embedding size
// and a call that embeds a batch of that input (f32 NCHW) into its rows.
struct Embedder {
  int64_t channels = 0, image = 0, dim = 0;
  std::function<void(const Tensor& images, float* out)> embed;  // owns the model
};

// The C API: the model file opened as a deployment opens it.
Embedder open_with_c_api(const std::string& path, int threads) {
  dml_model_options options;
  dml_model_options_init(&options);
  options.num_threads = threads;
  dml_model* raw = nullptr;
  check_status(dml_model_open(path.c_str(), &options, &raw), "dml_model_open");
  const std::shared_ptr<dml_model> model(raw, dml_model_close);
  dml_model_info info{};
  info.struct_size = sizeof info;
  check_status(dml_model_get_info(raw, &info), "dml_model_get_info");
  const int64_t c = info.channels, s = info.image_size, d = info.embedding_dim;
  return {
      .channels = c, .image = s, .dim = d, .embed = [model, c, s, d](const Tensor& x, float* out) {
        const int64_t n = x.size(0);
        check_status(
            dml_embed_tensor(model.get(), x.data<float>(), size_t(n), c, s, s, out, size_t(n * d)),
            "dml_embed_tensor");
      }};
}

// The training engine's eval-mode forward of the same file.
Embedder open_with_training_engine(const std::string& path) {
  train::TrainedModel trained = train::load_trained_model(path, {});
  const train::ModelConfig& m = trained.typed.model;
  return {.channels = m.in_channels,
          .image = trained.typed.augment.image_size,
          .dim = m.embedding_dim,
          .embed = [net = trained.model](const Tensor& x, float* out) {
            NoGradGuard no_grad;
            const Tensor embeddings = net->forward(x);
            std::copy_n(embeddings.data<float>(), embeddings.numel(), out);
          }};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Times the embedding of a model file through the C API"};
  std::string model_file, path = "api", input, output;
  int64_t batch = 32, repeats = 5, warmup = 1;
  int threads = 0;
  app.add_option("--model-file", model_file, "An exported model (dml train's model.safetensors)")
      ->required();
  app.add_option("--batch", batch, "Images per call")->capture_default_str();
  app.add_option("--repeats", repeats, "Timed calls")->capture_default_str();
  app.add_option("--warmup", warmup, "Untimed calls first")->capture_default_str();
  app.add_option("--threads", threads, "OpenMP threads (0: default)");
  app.add_option("--path", path, "api or training")->capture_default_str();
  app.add_option("--input", input, ".npy images [batch, channels, image, image]");
  app.add_option("--output", output, ".npy file for the embeddings [batch, dim]");
  CLI11_PARSE(app, argc, argv);
  try {
    DML_CHECK(path == "api" || path == "training", "--path: '", path, "'; use api or training");
    DML_CHECK(repeats >= 1 && batch >= 1, "--repeats and --batch must be at least 1");
    if (threads > 0) omp_set_num_threads(threads);
    const Embedder model = path == "api" ? open_with_c_api(model_file, threads)
                                         : open_with_training_engine(model_file);
    const Shape shape{batch, model.channels, model.image, model.image};
    manual_seed(0);
    const Tensor x = input.empty() ? randn(shape) : read_npy(input);
    DML_CHECK(x.shape() == shape && x.dtype() == DType::f32, "--input: ", describe(x),
              " must be f32 ", shape_str(shape), ", the model's input");
    Tensor embeddings = zeros({batch, model.dim});
    const double rss_loaded = bench::status_bytes("VmRSS");
    bench::reset_peak_rss();
    std::vector<double> times, cpu_times;
    for (int64_t r = 0; r < warmup + repeats; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      const double c0 = cpu_seconds();
      model.embed(x, embeddings.data<float>());
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
    const double peak = bench::status_bytes("VmHWM");
    if (!output.empty()) write_npy(output, embeddings);
    std::printf(
        "{\"engine\": \"dml\", \"path\": \"%s\", \"image\": %lld, \"batch\": %lld, "
        "\"channels\": %lld, \"threads\": %d, \"median_s\": %.5f, \"img_per_s\": %.3f, "
        "\"latency_ms\": %.3f, \"cpu_s\": %.5f, \"peak_rss_bytes\": %.0f, "
        "\"rss_increase_bytes\": %.0f}\n",
        path.c_str(), static_cast<long long>(model.image), static_cast<long long>(batch),
        static_cast<long long>(model.channels), threads > 0 ? threads : omp_get_max_threads(),
        median, double(batch) / median, median * 1e3, cpu_median, peak, peak - rss_loaded);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "inference_bench: error: %s\n", e.what());
    return 1;
  }
}
