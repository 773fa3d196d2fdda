#pragma once
// The network a DML run trains: a ResNet backbone without its classifier and
// an embedding head, built from the config's "model" section.
#include <memory>

#include "dml/train/config.h"
#include "layers/embedding_head.h"

namespace dml::train {

// Initialises from the default generator (seed it first for a repeatable
// model), then loads model.pretrained (torchvision ResNet weights as
// safetensors) into the backbone when given, and freezes batch norm when
// model.frozen_bn is set (the standard protocol fine-tunes with frozen BN).
std::shared_ptr<nn::EmbeddingNet> build_model(const ModelConfig& config);

}  // namespace dml::train
