#include "dml/train/model_factory.h"

#include <filesystem>

#include "base/error.h"
#include "dml/train/checkpoint.h"
#include "dml/train/finite_values.h"
#include "engine/safetensors.h"

namespace dml::train {

namespace {

nn::GlobalPool pool_of(const std::string& name) {
  const std::optional<nn::GlobalPool> pool = nn::parse_global_pool(name);
  DML_CHECK(pool, "model.pool: '", name, "' is not one of avg, max, avg+max");
  return *pool;
}

// How to get the weights a config names, said where they are missing: the
// standard-protocol configs start from torchvision's ImageNet weights, which
// the project does not ship.
constexpr const char* kHowToGetWeights =
    "convert torchvision's ImageNet .pth with python3 tools/convert_pth_to_safetensors.py "
    "resnet50.pth weights/resnet50.safetensors, or start from random weights with --set "
    "model.pretrained=\"\"";

NamedTensors read_pretrained_weights(const std::string& path) {
  try {
    return read_safetensors(path).tensors;
  } catch (const Error& e) {
    throw Error(std::string("model.pretrained: ") + e.what() + "; " + kHowToGetWeights);
  }
}

}  // namespace

void check_pretrained_weights_exist(const ModelConfig& config) {
  DML_CHECK(config.pretrained.empty() || std::filesystem::exists(config.pretrained),
            "model.pretrained: no weights file '", config.pretrained, "'; ", kHowToGetWeights);
}

std::shared_ptr<nn::EmbeddingNet> build_model(const ModelConfig& config) {
  nn::ResNetConfig backbone_config = nn::resnet_config(config.backbone);
  backbone_config.num_classes = 0;
  backbone_config.in_channels = config.in_channels;
  auto backbone = nn::make_resnet(backbone_config);
  if (!config.pretrained.empty()) {
    DML_CHECK(config.in_channels == 3,
              "model.pretrained: torchvision weights expect 3 input "
              "channels, but model.in_channels is ",
              config.in_channels);
    check_pretrained_weights_exist(config);
    nn::load_torchvision_weights(*backbone, read_pretrained_weights(config.pretrained));
  }
  if (config.frozen_bn) backbone->set_batch_norm_frozen(true);
  const int64_t features = backbone->feature_dim();
  return std::make_shared<nn::EmbeddingNet>(
      backbone, nn::EmbeddingHeadConfig{.in_features = features,
                                        .embedding_dim = config.embedding_dim,
                                        .pool = pool_of(config.pool),
                                        .layer_norm = config.layer_norm});
}

TrainedModel load_trained_model(const std::string& path, const std::vector<std::string>& overrides,
                                Device device) {
  Checkpoint checkpoint = load_checkpoint(path);
  check_finite_weights(checkpoint.model, path);
  TrainedModel out;
  out.config = resolve_config(checkpoint.config, overrides, path);
  out.typed = typed_config(out.config);
  use_configured_threads(out.typed.run);
  ModelConfig architecture = out.typed.model;
  architecture.pretrained.clear();  // the checkpoint holds every weight
  out.model = build_model(architecture);
  out.model->load_state_dict(checkpoint.model);
  out.model->to(device);
  out.model->eval();
  return out;
}

}  // namespace dml::train
