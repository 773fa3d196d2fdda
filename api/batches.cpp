#include "api/batches.h"

#include <algorithm>
#include <exception>
#include <vector>

#include "api/status.h"

namespace dml::api {

namespace {

size_t floats_per_image(const dml_model& model) {
  return size_t(channels_of(model) * image_size_of(model) * image_size_of(model));
}

// One network call on n images. The network's own errors (an input it
// cannot take) are the caller's sizes not fitting it.
void run_network(const dml_model& model, const float* images, size_t n, float* out) {
  with_status(DML_ERROR_SHAPE, "", [&] {
    model.network.embed(images, int64_t(n), image_size_of(model), image_size_of(model), out);
  });
}

}  // namespace

void embed_in_batches(const dml_model& model, size_t count, const Preprocess& preprocess,
                      float* out) {
  const size_t per_image = floats_per_image(model);
  const size_t dim = size_t(model.network.embedding_dim());
  std::vector<float> batch(std::min(count, kBatchImages) * per_image);
  std::vector<std::exception_ptr> errors(kBatchImages);
  for (size_t begin = 0; begin < count; begin += kBatchImages) {
    const size_t n = std::min(kBatchImages, count - begin);
#pragma omp parallel for schedule(dynamic)
    for (size_t i = 0; i < n; ++i) {
      try {
        preprocess(begin + i, batch.data() + i * per_image);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
    for (size_t i = 0; i < n; ++i)
      if (errors[i]) std::rethrow_exception(errors[i]);
    run_network(model, batch.data(), n, out + begin * dim);
  }
}

void embed_preprocessed(const dml_model& model, const float* images, size_t count, float* out) {
  const size_t per_image = floats_per_image(model);
  const size_t dim = size_t(model.network.embedding_dim());
  for (size_t begin = 0; begin < count; begin += kBatchImages)
    run_network(model, images + begin * per_image, std::min(kBatchImages, count - begin),
                out + begin * dim);
}

}  // namespace dml::api
