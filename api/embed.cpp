// Embedding: dml_embed_files, dml_embed_images, dml_embed_tensor. Every
// argument is checked first; the embeddings are computed into a buffer of
// the call's own and copied out only when every image succeeded, so a
// failed call leaves the caller's buffer as it was.
#include <algorithm>
#include <string>
#include <vector>

#include "api/arguments.h"
#include "api/batches.h"
#include "api/call_threads.h"
#include "api/model.h"
#include "api/preprocess.h"
#include "api/status.h"

using namespace dml::api;

namespace {

constexpr const char* kModelExpected = "a model from dml_model_open";
constexpr const char* kEmbeddingsExpected = "a buffer of count x embedding_dim floats";

// Runs `compute` (which fills count rows) on the call's threads, then copies
// its rows to embeddings.
template <class Compute>
void embed_then_copy(const dml_model& model, size_t count, float* embeddings, Compute&& compute) {
  const CallThreads threads(model.num_threads);
  std::vector<float> rows(count * size_t(model.network.embedding_dim()));
  compute(rows.data());
  std::copy(rows.begin(), rows.end(), embeddings);
}

// False when there is nothing to embed (count 0: no error, and the arrays
// may then be NULL).
bool check_outputs(const dml_model* model, size_t count, float* embeddings, size_t capacity) {
  require_pointer(model, "model", kModelExpected);
  if (count == 0) return false;
  require_pointer(embeddings, "embeddings", kEmbeddingsExpected);
  require_capacity(capacity, count, model->network.embedding_dim());
  return true;
}

}  // namespace

extern "C" {

dml_status dml_embed_files(const dml_model* model, const char* const* paths, size_t count,
                           float* embeddings, size_t capacity) {
  return guarded(__func__, [&] {
    if (!check_outputs(model, count, embeddings, capacity)) return;
    require_pointer(paths, "paths", "an array of count file paths");
    for (size_t i = 0; i < count; ++i)
      DML_API_CHECK(paths[i] != nullptr, DML_ERROR_INVALID_ARGUMENT, "paths[", i,
                    "] is NULL; pass the path of an image file");
    embed_then_copy(*model, count, embeddings, [&](float* rows) {
      embed_in_batches(
          *model, count,
          [&](size_t i, float* slot) {
            preprocess_file(*model, paths[i], "paths[" + std::to_string(i) + "]", slot);
          },
          rows);
    });
  });
}

dml_status dml_embed_images(const dml_model* model, const dml_image* images, size_t count,
                            float* embeddings, size_t capacity) {
  return guarded(__func__, [&] {
    if (!check_outputs(model, count, embeddings, capacity)) return;
    require_pointer(images, "images", "an array of count dml_image");
    for (size_t i = 0; i < count; ++i) check_image(*model, images[i], i);
    embed_then_copy(*model, count, embeddings, [&](float* rows) {
      embed_in_batches(
          *model, count, [&](size_t i, float* slot) { preprocess_image(*model, images[i], slot); },
          rows);
    });
  });
}

dml_status dml_embed_tensor(const dml_model* model, const float* batch, size_t count,
                            int64_t channels, int64_t height, int64_t width, float* embeddings,
                            size_t capacity) {
  return guarded(__func__, [&] {
    if (!check_outputs(model, count, embeddings, capacity)) return;
    require_pointer(batch, "batch", "count x channels x height x width floats, NCHW");
    const int64_t size = image_size_of(*model);
    DML_API_CHECK(channels == channels_of(*model) && height == size && width == size,
                  DML_ERROR_SHAPE, "the batch's images are ", channels, " x ", height, " x ", width,
                  " (channels x height x width) but the model takes ", channels_of(*model), " x ",
                  size, " x ", size, "; preprocess to the model's input (dml_model_get_info)");
    checked_elements(count, channels * height * width, "floats of the batch");
    embed_then_copy(*model, count, embeddings,
                    [&](float* rows) { embed_preprocessed(*model, batch, count, rows); });
  });
}

}  // extern "C"
