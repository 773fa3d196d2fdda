#pragma once
// Embedding many images in batches of kBatchImages, so a call's memory stays
// bounded whatever its count: each batch is preprocessed on the call's
// OpenMP threads, then run through the network.
#include <cstddef>
#include <functional>

#include "api/model.h"

namespace dml::api {

inline constexpr size_t kBatchImages = 32;

// Fills slot with the preprocessed image `index` (f32 [channels,
// image_size, image_size]); called from OpenMP threads. What it throws for
// the lowest failing index is rethrown once its batch is done.
using Preprocess = std::function<void(size_t index, float* slot)>;

// Embeds count images into out (count x embedding_dim floats).
void embed_in_batches(const dml_model& model, size_t count, const Preprocess& preprocess,
                      float* out);

// Embeds count preprocessed images, NCHW at the model's input size, into out.
void embed_preprocessed(const dml_model& model, const float* images, size_t count, float* out);

}  // namespace dml::api
