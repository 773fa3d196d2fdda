#pragma once
// The fixture the installed examples run on (tests/api/test_install.sh): a
// small exported model with random weights and PNG images. The light build
// has no dml_train, so the model is put together from the layers and written
// by the trainer's checkpoint writer (compiled in: it needs only the
// engine); test_deploy_fixture checks in the full build that the trainer
// reads the file as its own.
#include <cstdint>
#include <string>

#include "dml/json.h"

namespace dml::test {

// The sections of the model's config a deployment reads: "model" and
// "augment", every key of both (an RGB small_resnet10 with a 16-float
// embedding on 32 x 32 crops of images resized to 36).
Json deploy_model_config();

// The model of deploy_model_config() with random weights (seeded), exported
// as `dml train` exports one ("dml-model-<N>", tensors "backbone.*",
// "head.*", the config in the metadata).
void write_deploy_model(const std::string& path, uint64_t seed = 7);

// An RGB PNG of stripes whose direction and period depend on `seed`, so
// images of different seeds embed far apart.
void write_deploy_image(const std::string& path, int width, int height, int seed);

}  // namespace dml::test
