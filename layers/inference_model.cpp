// Stand-in for the inference path: the training engine's EmbeddingNet in eval
// mode under NoGradGuard, one call at a time.
#include "layers/inference_model.h"

#include <cmath>
#include <cstring>
#include <mutex>

#include "engine/autograd.h"

namespace dml::nn {

struct InferenceModel::Impl {
  InferenceArchitecture architecture;
  std::shared_ptr<EmbeddingNet> net;
  mutable std::mutex mutex;
};

InferenceModel::InferenceModel(const InferenceArchitecture& a, const NamedTensors& weights)
    : impl_(std::make_unique<Impl>()) {
  ResNetConfig config = resnet_config(a.backbone);
  config.num_classes = 0;
  config.in_channels = a.in_channels;
  auto backbone = make_resnet(config);
  const int64_t features = backbone->feature_dim();
  impl_->architecture = a;
  impl_->net = std::make_shared<EmbeddingNet>(
      backbone, EmbeddingHeadConfig{features, a.embedding_dim, a.pool, a.layer_norm, a.normalize});
  for (const auto& [name, t] : weights) {
    if (name.ends_with("num_batches_tracked")) continue;
    DML_CHECK(t.dtype() == DType::f32, "weights: '", name, "' is not f32");
    for (float v : t.to_vector<float>())
      DML_CHECK(std::isfinite(v), "weights: '", name, "' is not finite");
  }
  impl_->net->load_state_dict(weights);
  impl_->net->eval();
}

InferenceModel::~InferenceModel() = default;
InferenceModel::InferenceModel(InferenceModel&&) noexcept = default;
InferenceModel& InferenceModel::operator=(InferenceModel&&) noexcept = default;

const InferenceArchitecture& InferenceModel::architecture() const {
  return impl_->architecture;
}
int64_t InferenceModel::embedding_dim() const {
  return impl_->architecture.embedding_dim;
}

void InferenceModel::embed(const float* images, int64_t n, int64_t height, int64_t width,
                           float* out) const {
  DML_CHECK(n >= 1 && height >= 1 && width >= 1, "InferenceModel::embed: empty input");
  const std::lock_guard lock(impl_->mutex);
  NoGradGuard no_grad;
  Tensor x = Tensor::empty({n, impl_->architecture.in_channels, height, width});
  std::memcpy(x.data<float>(), images, x.nbytes());
  Tensor y = (*impl_->net)(x);
  std::memcpy(out, y.data<float>(), y.nbytes());
}

int64_t InferenceModel::workspace_bytes() const {
  return 0;
}

}  // namespace dml::nn
