// embed_search: the C example (examples/c/embed_search.c) with the C++
// wrapper, dml.hpp: embeds image files with a model trained by `dml train`,
// indexes them, and finds the nearest images of the first two.
//
//   embed_search MODEL QUERY1 QUERY2 [IMAGE...]
//
// Every image given is in the index, with its position among them (from 0)
// as its id; for each query, one line: its path, then up to three ids with
// their cosine distances, nearest first. C++17.
#include <algorithm>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include <dml.hpp>

int main(int argc, char** argv) {
  constexpr size_t kQueries = 2, kMaxNeighbours = 3;
  if (argc < int(2 + kQueries)) {
    std::fprintf(stderr, "usage: %s MODEL QUERY1 QUERY2 [IMAGE...]\n", argv[0]);
    return 2;
  }
  const std::vector<std::string> paths(argv + 2, argv + argc);
  try {
    const dml::deploy::Model model(argv[1]);
    const std::vector<float> embeddings = model.embed_files(paths);
    std::vector<int64_t> ids(paths.size());
    std::iota(ids.begin(), ids.end(), 0);
    dml::deploy::Index index(model.embedding_dim(), DML_METRIC_COSINE);
    index.add(embeddings, ids);
    const std::vector<float> queries(embeddings.begin(),
                                     embeddings.begin() + kQueries * model.embedding_dim());
    const size_t k = std::min(paths.size(), kMaxNeighbours);
    const dml::deploy::SearchResults found = index.search(queries, k);
    for (size_t q = 0; q < found.count; ++q) {
      std::printf("%s:", paths[q].c_str());
      for (size_t j = 0; j < k; ++j)
        std::printf(" %lld %.6f", (long long)found.ids[q * k + j], found.distances[q * k + j]);
      std::printf("\n");
    }
  } catch (const dml::deploy::Error& e) {
    std::fprintf(stderr, "%s: %s\n", dml_status_name(e.status()), e.what());
    return 1;
  }
  return 0;
}
