#pragma once
// A model's evaluation preprocessing of image files and 8-bit buffers, the
// same as `dml embed` applies: decode to the model's channels within the
// pixel limit, resize the shorter side, centre crop, normalise. Each fills
// one f32 [channels, image_size, image_size] slot of a batch.
#include <cstddef>
#include <string>

#include "api/dml.h"
#include "api/model.h"

namespace dml::api {

// A missing or unreadable file is DML_ERROR_IO; one that does not decode, or
// whose pixels (or resized pixels) exceed the model's limit,
// DML_ERROR_FORMAT. `what` names it ("paths[3]").
void preprocess_file(const dml_model& model, const std::string& path, const std::string& what,
                     float* slot);

// Checks everything about images[index] that can be checked without its
// pixels (DML_ERROR_INVALID_ARGUMENT): done for every image before any work.
void check_image(const dml_model& model, const dml_image& image, size_t index);
void preprocess_image(const dml_model& model, const dml_image& image, float* slot);

}  // namespace dml::api
