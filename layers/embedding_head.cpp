#include "layers/embedding_head.h"

namespace dml::nn {

std::optional<GlobalPool> parse_global_pool(const std::string& name) {
  if (name == "avg") return GlobalPool::average;
  if (name == "max") return GlobalPool::max;
  if (name == "avg+max") return GlobalPool::average_plus_max;
  return std::nullopt;
}

EmbeddingHead::EmbeddingHead(const EmbeddingHeadConfig& c) : config_(c) {
  if (c.layer_norm) norm_ = register_module("norm", std::make_shared<LayerNorm>(c.in_features));
  fc_ = register_module("fc", std::make_shared<Linear>(c.in_features, c.embedding_dim));
}

Tensor EmbeddingHead::forward(const Tensor& features) {
  DML_CHECK(features.dim() == 4 && features.size(1) == config_.in_features,
            "EmbeddingHead: ", ::dml::describe(features), " must be [N, ", config_.in_features,
            ", H, W]");
  Tensor pooled;
  switch (config_.pool) {
    case GlobalPool::average:
      pooled = adaptive_avg_pool2d(features, 1, 1);
      break;
    case GlobalPool::max:
      pooled = adaptive_max_pool2d(features, 1, 1);
      break;
    case GlobalPool::average_plus_max:
      pooled = add(adaptive_avg_pool2d(features, 1, 1), adaptive_max_pool2d(features, 1, 1));
      break;
  }
  Tensor h = pooled.flatten(1);
  if (norm_) h = norm_->forward(h);
  h = fc_->forward(h);
  return config_.normalize ? l2_normalize(h, 1) : h;
}

std::string EmbeddingHead::describe() const {
  const char* pool = config_.pool == GlobalPool::average ? "avg"
                     : config_.pool == GlobalPool::max   ? "max"
                                                         : "avg+max";
  return std::string("EmbeddingHead(") + pool + " pool" + (norm_ ? ", layer norm" : "") + ", " +
         std::to_string(config_.in_features) + " -> " + std::to_string(config_.embedding_dim) +
         (config_.normalize ? ", L2)" : ")");
}

EmbeddingNet::EmbeddingNet(std::shared_ptr<ResNet> backbone, const EmbeddingHeadConfig& head) {
  DML_CHECK(backbone, "EmbeddingNet: no backbone given");
  DML_CHECK(backbone->config().num_classes == 0, "EmbeddingNet: the backbone still has a ",
            backbone->config().num_classes, "-way classifier; build it with num_classes = 0");
  EmbeddingHeadConfig h = head;
  h.in_features = backbone->feature_dim();
  backbone_ = register_module("backbone", std::move(backbone));
  head_ = register_module("head", std::make_shared<EmbeddingHead>(h));
}

Tensor EmbeddingNet::forward(const Tensor& images) {
  return head_->forward(backbone_->forward_features(images));
}

}  // namespace dml::nn
