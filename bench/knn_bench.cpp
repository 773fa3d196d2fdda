// Exact kNN on random embeddings: times dml::eval::knn (one set against
// itself, k neighbours, self included, as faiss's IndexFlatL2 search returns
// them) and a full Recall@k evaluation (evaluate_embeddings: self excluded,
// Recall@1,2,4,8 and Precision@1; with --r-metrics also R-precision and
// MAP@R, with --clustering also NMI and F1). Writes the
// embeddings and labels as .npy files first, so bench/compare_knn_faiss.py
// runs faiss on the same data; prints one JSON line with every repetition's
// time and the medians.
//
// --device cuda: the search runs on the GPU (engine/ops/knn_cuda.h) with each
// row's own entry excluded, as the recall protocol does, and the "recall
// evaluation" is that search plus Recall@1,2,4,8 from its neighbour lists;
// bench/compare_knn_torch.py times the same in PyTorch on the same data.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "bench/run_timing.h"
#include "dml/eval/evaluate.h"
#include "dml/eval/knn.h"
#ifdef DML_WITH_CUDA
#include "kernels/cuda_runtime/stream.h"
#endif

namespace {

using namespace dml;
using bench::json_list;
using bench::median;
using bench::time_reps;

// A C-order .npy (format 1.0) of little-endian f32 or i64.
void write_npy(const std::string& path, const Tensor& t) {
  std::string descr = t.dtype() == DType::f32 ? "<f4" : "<i8";
  std::string shape = "(";
  for (int64_t d : t.shape()) shape += std::to_string(d) + ",";
  if (t.dim() > 1) shape.pop_back();
  shape += ")";
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  header.append(63 - (10 + header.size()) % 64, ' ');  // the data starts 64-byte aligned
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  const uint16_t len = uint16_t(header.size());
  f.write("\x93NUMPY\x01\x00", 8);
  f.write(reinterpret_cast<const char*>(&len), 2);
  f.write(header.data(), std::streamsize(header.size()));
  f.write(static_cast<const char*>(t.raw_data()), std::streamsize(t.nbytes()));
  DML_CHECK(f.good(), "knn_bench: cannot write ", path);
}

// Recall@k for k = 1, 2, 4, 8 from neighbour lists [rows, depth >= 8]: the
// share of rows with a same-label row among their first k neighbours.
std::vector<double> recall_at_1_2_4_8(const Tensor& indices, const Tensor& labels) {
  const std::vector<int64_t> nn = indices.to_vector<int64_t>(), y = labels.to_vector<int64_t>();
  const int64_t rows = indices.size(0), depth = indices.size(1);
  std::vector<double> hits(4, 0);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t first = depth;
    for (int64_t p = 0; p < depth && first == depth; ++p)
      if (y[size_t(nn[size_t(r * depth + p)])] == y[size_t(r)]) first = p;
    for (int i = 0; i < 4; ++i) hits[size_t(i)] += first < (int64_t(1) << i);
  }
  for (double& h : hits) h /= double(std::max<int64_t>(rows, 1));
  return hits;
}

void wait_for(Device device) {
#ifdef DML_WITH_CUDA
  if (device.is_cuda()) cuda::synchronize(device.index);
#else
  (void)device;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Times exact kNN and Recall@k evaluation on random embeddings"};
  int64_t rows = 60000, dim = 128, k = 8, classes = 100, chunk_rows = 256;
  int reps = 5, threads = 0;
  uint64_t seed = 0;
  std::string out_prefix = "knn_bench", device_name = "cpu";
  bool r_metrics = false, clustering = false;
  app.add_option("--rows", rows, "Embeddings (queries = database)")->capture_default_str();
  app.add_option("--dim", dim, "Embedding size")->capture_default_str();
  app.add_option("--k", k, "Neighbours per query")->capture_default_str();
  app.add_option("--classes", classes, "Random labels for the recall evaluation")
      ->capture_default_str();
  app.add_option("--chunk-rows", chunk_rows, "Queries per kNN work item")->capture_default_str();
  app.add_option("--reps", reps, "Timed repetitions")->capture_default_str();
  app.add_option("--threads", threads, "OpenMP threads (0: default)");
  app.add_option("--seed", seed, "Philox seed of the embeddings and labels")->capture_default_str();
  app.add_option("--out", out_prefix, "Writes <out>_x.npy and <out>_labels.npy")
      ->capture_default_str();
  app.add_option("--device", device_name, "cpu or cuda (see above)")->capture_default_str();
  app.add_flag("--r-metrics", r_metrics, "Evaluate R-precision and MAP@R too");
  app.add_flag("--clustering", clustering, "Evaluate NMI and F1 (k-means) too");
  CLI11_PARSE(app, argc, argv);
  try {
    if (threads > 0) omp_set_num_threads(threads);
    const Device device = parse_device(device_name);
    DML_CHECK(!device.is_cuda() || device.index < cuda_device_count(), "--device ", device.str(),
              ": no such CUDA device (", cuda_device_count(), " present)");
    Generator gen(seed);
    const Tensor x = randn({rows, dim}, DType::f32, &gen);
    const Tensor labels = randint(0, classes, {rows}, DType::i64, &gen);
    write_npy(out_prefix + "_x.npy", x);
    write_npy(out_prefix + "_labels.npy", labels);
    if (device.is_cuda()) {
      const Tensor xd = x.to(device);
      const eval::KnnOptions options{.exclude_self = true, .chunk_rows = chunk_rows};
      eval::KnnResult nn;
      const std::vector<double> knn_s = time_reps(reps, [&] {
        nn = eval::knn(xd, xd, std::max<int64_t>(k, 8), options);
        wait_for(device);
      });
      std::vector<double> recall;
      const std::vector<double> eval_s = time_reps(
          reps, [&] { recall = recall_at_1_2_4_8(eval::knn(xd, xd, 8, options).indices, labels); });
      write_npy(out_prefix + "_indices.npy", nn.indices.to(Device::cpu()));
      std::printf(
          "{\"engine\": \"dml\", \"device\": \"%s\", \"rows\": %lld, \"dim\": %lld, "
          "\"k\": %lld, \"knn_s\": %s, \"knn_median_s\": %.6f, \"recall_eval_s\": %s, "
          "\"recall_eval_median_s\": %.6f, \"recall@1\": %.6f, \"recall@8\": %.6f}\n",
          device.str().c_str(), (long long)rows, (long long)dim, (long long)std::max<int64_t>(k, 8),
          json_list(knn_s).c_str(), median(knn_s), json_list(eval_s).c_str(), median(eval_s),
          recall[0], recall[3]);
      return 0;
    }

    eval::KnnResult nn;
    const std::vector<double> knn_s = time_reps(reps, [&] {
      nn = eval::knn(x, x, k, {eval::Metric::euclidean, false, chunk_rows});
    });
    write_npy(out_prefix + "_indices.npy", nn.indices);

    eval::EvalOptions options;
    options.r_metrics = r_metrics;
    options.clustering = clustering;
    options.chunk_rows = chunk_rows;
    eval::RetrievalReport report;
    const std::vector<double> eval_s =
        time_reps(reps, [&] { report = eval::evaluate_embeddings(x, labels, options); });

    std::printf(
        "{\"engine\": \"dml\", \"rows\": %lld, \"dim\": %lld, \"k\": %lld, \"threads\": %d, "
        "\"knn_s\": %s, \"knn_median_s\": %.6f, \"recall_eval_s\": %s, "
        "\"recall_eval_median_s\": %.6f, \"r_metrics\": %s, \"clustering\": %s, "
        "\"recall@1\": %.6f, \"recall@8\": %.6f}\n",
        (long long)rows, (long long)dim, (long long)k, omp_get_max_threads(),
        json_list(knn_s).c_str(), median(knn_s), json_list(eval_s).c_str(), median(eval_s),
        r_metrics ? "true" : "false", clustering ? "true" : "false", report.metric("recall@1"),
        report.metric("recall@8"));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "knn_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
