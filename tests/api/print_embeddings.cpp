// Prints each image's embedding under a model through libdml (dml.h), one
// line per image: its path, then the values to 9 significant digits.
// scripts/cross_aarch64.sh compares an aarch64 build's lines with an x86-64
// build's; needs no gtest, so a cross build has it.
//
//   print_embeddings MODEL IMAGE...
#include <cstdio>
#include <vector>

#include "dml.h"

namespace {

// True when a call failed, after printing its status and message.
bool failed(dml_status status, const char* call) {
  if (status == DML_OK) return false;
  std::fprintf(stderr, "print_embeddings: %s: %s: %s\n", call, dml_status_name(status),
               dml_last_error());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL IMAGE...\n", argv[0]);
    return 2;
  }
  const char* const* paths = argv + 2;
  const size_t count = size_t(argc - 2);
  dml_model* model = nullptr;
  int64_t dim = 0;
  if (failed(dml_model_open(argv[1], nullptr, &model), "dml_model_open")) return 1;
  std::vector<float> embeddings;
  bool ok = !failed(dml_model_embedding_dim(model, &dim), "dml_model_embedding_dim");
  if (ok) {
    embeddings.resize(count * size_t(dim));
    ok = !failed(dml_embed_files(model, paths, count, embeddings.data(), embeddings.size()),
                 "dml_embed_files");
  }
  dml_model_close(model);
  if (!ok) return 1;
  for (size_t i = 0; i < count; ++i) {
    std::printf("%s", paths[i]);
    for (int64_t j = 0; j < dim; ++j) std::printf(" %.9g", double(embeddings[i * size_t(dim) + j]));
    std::printf("\n");
  }
  return 0;
}
