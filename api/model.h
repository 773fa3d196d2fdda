#pragma once
// What a dml_model handle holds: the network built once for inference, the
// preprocessing its file describes, and the options it was opened with.
// Read-only after dml_model_open, so any number of threads may embed with it.
#include <cstdint>
#include <string>

#include "api/dml.h"
#include "dml/data/transforms.h"
#include "layers/inference_model.h"

struct dml_model {
  dml::nn::InferenceModel network;
  dml::data::TransformConfig transform;  // the eval transform of the model's config
  int num_threads = 0;                   // per call; 0: OpenMP's default
  int64_t max_image_pixels = 0;
};

namespace dml::api {

// The model's input channels, and its input height and width (image_size).
inline int64_t channels_of(const dml_model& model) {
  return model.network.architecture().in_channels;
}
inline int64_t image_size_of(const dml_model& model) {
  return model.transform.image_size;
}

}  // namespace dml::api
