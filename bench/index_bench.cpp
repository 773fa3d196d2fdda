// The exact index (api/exact_index.h) on a database and queries read from
// .npy files (bench/compare_index_faiss.py writes them once and runs faiss's
// IndexFlatL2 on the same files): the time to build the index (one add of
// every row), the search of all queries and of one query (medians of
// repetitions), queries per second and the process's peak resident memory.
// Writes the ids and distances of the full search as .npy files beside the
// queries, and prints one JSON line.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "api/exact_index.h"
#include "engine/npy.h"

namespace {

using namespace dml;

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

// The process's peak resident set (VmHWM), in MiB.
double peak_rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  double kib = 0;
  while (status >> key) {
    if (key == "VmHWM:") {
      status >> kib;
      break;
    }
    status.ignore(1 << 20, '\n');
  }
  return kib / 1024;
}

Tensor read_matrix(const std::string& path) {
  const Tensor t = read_npy(path);
  DML_CHECK(t.dtype() == DType::f32 && t.dim() == 2, "index_bench: ", path, " holds ", describe(t),
            "; expected f32 [rows, dim]");
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Times the exact index: build, search of many queries and of one"};
  std::string database_path, queries_path, out_prefix = "index_bench", metric_name = "l2";
  int64_t k = 10;
  int reps = 5, single_reps = 21, threads = 0;
  app.add_option("--database", database_path, "f32 [N, D] .npy")->required();
  app.add_option("--queries", queries_path, "f32 [Q, D] .npy")->required();
  app.add_option("--k", k, "Neighbours per query")->capture_default_str();
  app.add_option("--metric", metric_name, "l2 or cosine")->capture_default_str();
  app.add_option("--reps", reps, "Timed builds and full searches")->capture_default_str();
  app.add_option("--single-reps", single_reps, "Timed one-query searches")->capture_default_str();
  app.add_option("--threads", threads, "OpenMP threads (0: default)");
  app.add_option("--out", out_prefix, "Writes <out>_ids.npy and <out>_distances.npy")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    DML_CHECK(metric_name == "l2" || metric_name == "cosine", "index_bench: --metric ", metric_name,
              " is neither l2 nor cosine");
    if (threads > 0) omp_set_num_threads(threads);
    const api::IndexMetric metric =
        metric_name == "l2" ? api::IndexMetric::l2 : api::IndexMetric::cosine;
    const Tensor database = read_matrix(database_path);
    const Tensor queries = read_matrix(queries_path);
    const int64_t n = database.size(0), dim = database.size(1), nq = queries.size(0);
    DML_CHECK(queries.size(1) == dim, "index_bench: queries have dim ", queries.size(1),
              " but the database ", dim);
    std::vector<int64_t> ids(static_cast<size_t>(n));
    std::iota(ids.begin(), ids.end(), 0);

    api::ExactIndex index(dim, metric);
    const std::vector<double> build_s = time_reps(reps, [&] {
      index = api::ExactIndex(dim, metric);
      index.add(database.data<float>(), ids.data(), n);
    });

    Tensor found = Tensor::empty({nq, k}, DType::i64), distances = Tensor::empty({nq, k});
    const std::vector<double> search_s = time_reps(reps, [&] {
      index.search(queries.data<float>(), nq, k, found.data<int64_t>(), distances.data<float>());
    });
    std::vector<int64_t> one_id(static_cast<size_t>(k));
    std::vector<float> one_distance(static_cast<size_t>(k));
    const std::vector<double> single_s = time_reps(single_reps, [&] {
      index.search(queries.data<float>(), 1, k, one_id.data(), one_distance.data());
    });
    write_npy(out_prefix + "_ids.npy", found);
    write_npy(out_prefix + "_distances.npy", distances);

    std::printf(
        "{\"engine\": \"dml\", \"metric\": \"%s\", \"rows\": %lld, \"dim\": %lld, "
        "\"queries\": %lld, \"k\": %lld, \"threads\": %d, \"build_s\": %s, "
        "\"build_median_s\": %.6f, \"search_s\": %s, \"search_median_s\": %.6f, "
        "\"queries_per_s\": %.1f, \"single_s\": %s, \"single_median_s\": %.6f, "
        "\"peak_rss_mib\": %.1f}\n",
        metric_name.c_str(), (long long)n, (long long)dim, (long long)nq, (long long)k,
        omp_get_max_threads(), json_list(build_s).c_str(), median(build_s),
        json_list(search_s).c_str(), median(search_s), double(nq) / median(search_s),
        json_list(single_s).c_str(), median(single_s), peak_rss_mib());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "index_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
