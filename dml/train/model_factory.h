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

// A missing model.pretrained file, with how to get the weights: checked by a
// training run before it reads any data, and by build_model.
void check_pretrained_weights_exist(const ModelConfig& config);

// A trained model from a checkpoint or an exported model file: its config
// (with `overrides` applied, e.g. data.root on another machine) and the
// network with its weights, in eval mode. Applies the config's train.threads
// (use_configured_threads), so `--set train.threads=N` bounds eval and embed.
struct TrainedModel {
  Json config;
  TrainConfig typed;
  std::shared_ptr<nn::EmbeddingNet> model;
};
// Weights with NaN or infinity are refused, naming the first such tensor.
// The model in eval mode on `device` (the checkpoint's train.device is where
// it trained, not where it must run).
TrainedModel load_trained_model(const std::string& path, const std::vector<std::string>& overrides,
                                Device device = Device::cpu());

}  // namespace dml::train
