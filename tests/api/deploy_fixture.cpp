#include "tests/api/deploy_fixture.h"

#include <stb/stb_image_write.h>

#include <vector>

#include "base/error.h"
#include "dml/train/checkpoint.h"
#include "engine/rng.h"
#include "layers/embedding_head.h"

namespace dml::test {

Json deploy_model_config() {
  return Json::parse(R"({
    "model": {"backbone": "small_resnet10", "in_channels": 3, "pretrained": "",
              "embedding_dim": 16, "pool": "avg", "layer_norm": false, "frozen_bn": false},
    "augment": {"image_size": 32, "resize": 36, "random_resized_crop": false,
                "horizontal_flip": true, "scale_min": 0.08,
                "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
  })");
}

void write_deploy_model(const std::string& path, uint64_t seed) {
  const Json config = deploy_model_config();
  const Json& model = config["model"];
  nn::ResNetConfig backbone = nn::resnet_config(model["backbone"]);
  backbone.num_classes = 0;
  backbone.in_channels = model["in_channels"];
  manual_seed(seed);
  auto resnet = nn::make_resnet(backbone);
  const nn::EmbeddingHeadConfig head{.in_features = resnet->feature_dim(),
                                     .embedding_dim = model["embedding_dim"],
                                     .pool = *nn::parse_global_pool(model["pool"]),
                                     .layer_norm = model["layer_norm"]};
  nn::EmbeddingNet net(resnet, head);
  train::save_exported_model(path, net.state_dict(), config, Json::object());
}

void write_deploy_image(const std::string& path, int width, int height, int seed) {
  std::vector<uint8_t> pixels;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c)
        pixels.push_back(uint8_t((x * (seed + 1) * 23 + y * (3 - seed) * 17 + c * 85) % 256));
  DML_CHECK(stbi_write_png(path.c_str(), width, height, 3, pixels.data(), width * 3) != 0,
            "deploy fixture: cannot write ", path);
}

}  // namespace dml::test
