#pragma once
// The DML embedding head: global pooling of the backbone's feature map
// (average, max, or their sum as common DML practice has it), an optional
// layer norm, a Linear to the embedding size, and L2 normalisation.
#include <optional>
#include <string>

#include "layers/linear.h"
#include "layers/resnet.h"
#include "layers/simple.h"

namespace dml::nn {

enum class GlobalPool { average, max, average_plus_max };

// The pool a config's model.pool names ("avg", "max", "avg+max"); nullopt
// for any other name.
std::optional<GlobalPool> parse_global_pool(const std::string& name);

struct EmbeddingHeadConfig {
  int64_t in_features = 512;
  int64_t embedding_dim = 128;
  GlobalPool pool = GlobalPool::average;
  bool layer_norm = false;
  bool normalize = true;  // L2-normalise the embedding
};

class EmbeddingHead final : public Module {
 public:
  explicit EmbeddingHead(const EmbeddingHeadConfig& config);
  // features [N, C, H, W] -> embedding [N, D]
  Tensor forward(const Tensor& features) override;
  std::string describe() const override;
  const EmbeddingHeadConfig& config() const { return config_; }

 private:
  EmbeddingHeadConfig config_;
  std::shared_ptr<LayerNorm> norm_;  // null without layer norm
  std::shared_ptr<Linear> fc_;
};

// A backbone without its classifier feeding an embedding head: the model a
// DML run trains and exports. Tensor names: "backbone.*", "head.*".
class EmbeddingNet final : public Module {
 public:
  EmbeddingNet(std::shared_ptr<ResNet> backbone, const EmbeddingHeadConfig& head);
  Tensor forward(const Tensor& images) override;
  std::string describe() const override { return "EmbeddingNet"; }
  ResNet& backbone() { return *backbone_; }
  EmbeddingHead& head() { return *head_; }

 private:
  std::shared_ptr<ResNet> backbone_;
  std::shared_ptr<EmbeddingHead> head_;
};

}  // namespace dml::nn
