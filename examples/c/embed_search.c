/* embed_search: embeds image files with a model trained by `dml train`,
 * indexes them, and finds the nearest images of the first two.
 *
 *   embed_search MODEL QUERY1 QUERY2 [IMAGE...]
 *
 * Every image given is in the index, with its position among them (from 0)
 * as its id; for each query, one line: its path, then up to three ids with
 * their cosine distances, nearest first. C99. */
#include <stdio.h>
#include <stdlib.h>

#include <dml.h>

/* Nonzero when a call failed, after printing its status and message. */
static int failed(dml_status status, const char* call) {
  if (status == DML_OK) return 0;
  fprintf(stderr, "%s: %s: %s\n", call, dml_status_name(status), dml_last_error());
  return 1;
}

enum { kQueries = 2, kMaxNeighbours = 3 };

int main(int argc, char** argv) {
  if (argc < 2 + kQueries) {
    fprintf(stderr, "usage: %s MODEL QUERY1 QUERY2 [IMAGE...]\n", argv[0]);
    return 2;
  }
  const char* const* paths = (const char* const*)(argv + 2);
  const size_t count = (size_t)(argc - 2);
  const size_t k = count < kMaxNeighbours ? count : kMaxNeighbours;
  dml_model* model = NULL;
  dml_index* index = NULL;
  int64_t dim = 0, neighbours[kQueries * kMaxNeighbours];
  float distances[kQueries * kMaxNeighbours];
  float* embeddings = NULL;
  int64_t* ids = NULL;
  int exit_code = 1;

  if (failed(dml_model_open(argv[1], NULL, &model), "dml_model_open") ||
      failed(dml_model_embedding_dim(model, &dim), "dml_model_embedding_dim"))
    goto done;
  embeddings = malloc(count * (size_t)dim * sizeof(float));
  ids = malloc(count * sizeof(int64_t));
  if (embeddings == NULL || ids == NULL) {
    fprintf(stderr, "out of memory\n");
    goto done;
  }
  for (size_t i = 0; i < count; ++i) ids[i] = (int64_t)i;

  /* Embed every image, index them all, search with the first two. */
  if (failed(dml_embed_files(model, paths, count, embeddings, count * (size_t)dim),
             "dml_embed_files") ||
      failed(dml_index_create(dim, DML_METRIC_COSINE, &index), "dml_index_create") ||
      failed(dml_index_add(index, embeddings, ids, count), "dml_index_add") ||
      failed(dml_index_search(index, embeddings, kQueries, k, neighbours, distances),
             "dml_index_search"))
    goto done;

  for (size_t q = 0; q < kQueries; ++q) {
    printf("%s:", paths[q]);
    for (size_t j = 0; j < k; ++j)
      printf(" %lld %.6f", (long long)neighbours[q * k + j], distances[q * k + j]);
    printf("\n");
  }
  exit_code = 0;
done:
  free(ids);
  free(embeddings);
  dml_index_close(index);
  dml_model_close(model);
  return exit_code;
}
