// The exact index through the C API (dml_index_create, dml_index_add,
// dml_index_search: what a deployment calls) on a database and queries read
// from .npy files (bench/compare_index_faiss.py writes them once and runs
// faiss's IndexFlatL2 on the same files): the time to build the index (one
// add of every row), the search of all queries and of one query (medians of
// repetitions), queries per second and the process's peak resident memory.
// Writes the ids and distances of the full search as .npy files beside the
// queries, and prints one JSON line.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "api/dml.h"
#include "bench/process_status.h"
#include "bench/run_timing.h"
#include "engine/npy.h"

namespace {

using namespace dml;
using bench::check_status;
using bench::json_list;
using bench::median;
using bench::time_reps;

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
    const dml_metric metric = metric_name == "l2" ? DML_METRIC_L2 : DML_METRIC_COSINE;
    const Tensor database = read_matrix(database_path);
    const Tensor queries = read_matrix(queries_path);
    const int64_t n = database.size(0), dim = database.size(1), nq = queries.size(0);
    DML_CHECK(queries.size(1) == dim, "index_bench: queries have dim ", queries.size(1),
              " but the database ", dim);
    std::vector<int64_t> ids(static_cast<size_t>(n));
    std::iota(ids.begin(), ids.end(), 0);

    // The previous index is closed before the next is created, so the peak
    // memory is of one index.
    std::unique_ptr<dml_index, void (*)(dml_index*)> index(nullptr, dml_index_close);
    const std::vector<double> build_s = time_reps(reps, [&] {
      index.reset();
      dml_index* created = nullptr;
      check_status(dml_index_create(dim, metric, &created), "dml_index_create");
      index.reset(created);
      check_status(dml_index_add(created, database.data<float>(), ids.data(), size_t(n)),
                   "dml_index_add");
    });

    Tensor found = Tensor::empty({nq, k}, DType::i64), distances = Tensor::empty({nq, k});
    const std::vector<double> search_s = time_reps(reps, [&] {
      check_status(dml_index_search(index.get(), queries.data<float>(), size_t(nq), size_t(k),
                                    found.data<int64_t>(), distances.data<float>()),
                   "dml_index_search");
    });
    std::vector<int64_t> one_id(static_cast<size_t>(k));
    std::vector<float> one_distance(static_cast<size_t>(k));
    const std::vector<double> single_s = time_reps(single_reps, [&] {
      check_status(dml_index_search(index.get(), queries.data<float>(), 1, size_t(k), one_id.data(),
                                    one_distance.data()),
                   "dml_index_search");
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
        json_list(single_s).c_str(), median(single_s), bench::status_bytes("VmHWM") / (1 << 20));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "index_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
