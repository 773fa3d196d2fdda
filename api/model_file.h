#pragma once
// A model file written by `dml train`: an exported model
// ("dml-model-<N>", tensors under their own names) or a checkpoint
// ("dml-checkpoint-<N>", the model's tensors under "model."), read as a
// hostile file. Its "config" metadata says what the network is and how its
// images are preprocessed.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "layers/inference_model.h"

namespace dml::api {

struct ModelFile {
  nn::InferenceArchitecture architecture;
  // augment.image_size, augment.resize, augment.mean, augment.std: one mean
  // and std per input channel.
  int64_t image_size = 0, resize = 0;
  std::vector<double> mean, std;
  NamedTensors weights;
};

// A missing or unreadable file is DML_ERROR_IO; anything wrong inside it
// (the safetensors layout, the format name or a newer version, a config key
// missing or invalid) is DML_ERROR_FORMAT naming the file and the key. The
// tensors themselves are checked when the network is built from them.
ModelFile read_model_file(const std::string& path);

}  // namespace dml::api
