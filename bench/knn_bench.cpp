// Exact kNN on random embeddings: times dml::eval::knn (one set against
// itself, k neighbours, self included, as faiss's IndexFlatL2 search returns
// them) and a full Recall@k evaluation (evaluate_embeddings: self excluded,
// Recall@1,2,4,8 and Precision@1; with --r-metrics also R-precision and
// MAP@R, with --clustering also NMI and F1). Writes the
// embeddings and labels as .npy files first, so bench/compare_knn_faiss.py
// runs faiss on the same data; prints one JSON line with every repetition's
// time and the medians.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "dml/eval/evaluate.h"
#include "dml/eval/knn.h"

namespace {

using namespace dml;

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

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Seconds per call of f, reps times, after one untimed call.
std::vector<double> time_reps(int reps, const std::function<void()>& f) {
  f();
  std::vector<double> out;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    out.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return out;
}

std::string json_list(const std::vector<double>& v) {
  std::string s = "[";
  for (double x : v) s += (s.size() > 1 ? "," : "") + std::to_string(x);
  return s + "]";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Times exact kNN and Recall@k evaluation on random embeddings"};
  int64_t rows = 60000, dim = 128, k = 8, classes = 100, chunk_rows = 256;
  int reps = 5, threads = 0;
  uint64_t seed = 0;
  std::string out_prefix = "knn_bench";
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
  app.add_flag("--r-metrics", r_metrics, "Evaluate R-precision and MAP@R too");
  app.add_flag("--clustering", clustering, "Evaluate NMI and F1 (k-means) too");
  CLI11_PARSE(app, argc, argv);
  try {
    if (threads > 0) omp_set_num_threads(threads);
    Generator gen(seed);
    const Tensor x = randn({rows, dim}, DType::f32, &gen);
    const Tensor labels = randint(0, classes, {rows}, DType::i64, &gen);
    write_npy(out_prefix + "_x.npy", x);
    write_npy(out_prefix + "_labels.npy", labels);

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
