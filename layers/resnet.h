#pragma once
// The ResNet family as torchvision defines it (He et al. 2016, v1.5: the
// stride of a bottleneck sits on its 3x3 convolution), with torchvision's
// module names so its state_dict loads by name, plus small ResNets for
// 28-64 px images (3x3 stride-1 stem, no max pool) that train on a CPU.
#include <string>
#include <vector>

#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "layers/resnet_config.h"
#include "layers/sequential.h"

namespace dml::nn {

class BasicBlock final : public Module {
 public:
  static constexpr int64_t expansion = 1;
  BasicBlock(int64_t in, int64_t planes, int64_t stride, bool zero_init_residual);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "BasicBlock"; }

 private:
  std::shared_ptr<Conv2d> conv1_, conv2_;
  std::shared_ptr<BatchNorm2d> bn1_, bn2_;
  std::shared_ptr<Sequential> downsample_;  // null when the shapes already match
};

class Bottleneck final : public Module {
 public:
  static constexpr int64_t expansion = 4;
  Bottleneck(int64_t in, int64_t planes, int64_t stride, bool zero_init_residual);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "Bottleneck"; }

 private:
  std::shared_ptr<Conv2d> conv1_, conv2_, conv3_;
  std::shared_ptr<BatchNorm2d> bn1_, bn2_, bn3_;
  std::shared_ptr<Sequential> downsample_;
};

class ResNet final : public Module {
 public:
  explicit ResNet(const ResNetConfig& config);
  // Pooled features [N, C] or, with a classifier, logits [N, num_classes].
  Tensor forward(const Tensor& x) override;
  // The last stage's feature map [N, C, H, W], before pooling. Under bf16
  // autocast the activations inside are bf16 (AutocastActivationsGuard) and
  // the feature map comes back f32.
  Tensor forward_features(const Tensor& x);
  std::string describe() const override;
  int64_t feature_dim() const { return feature_dim_; }
  const ResNetConfig& config() const { return config_; }
  // Every BatchNorm2d in the network (to freeze them for DML fine-tuning).
  void set_batch_norm_frozen(bool frozen);
  // Channels-last (NHWC) activations inside forward_features
  // (engine/channels_last.h): on a GPU, cuDNN's convolutions without internal
  // transposes; the same results (to rounding) on every device. Off by default.
  void set_channels_last(bool on) { channels_last_ = on; }
  bool channels_last() const { return channels_last_; }

 private:
  ResNetConfig config_;
  int64_t feature_dim_;
  std::shared_ptr<Conv2d> conv1_;
  std::shared_ptr<BatchNorm2d> bn1_;
  std::vector<std::shared_ptr<Sequential>> stages_;
  std::shared_ptr<Linear> fc_;  // null without a classifier
  bool channels_last_ = false;
};

std::shared_ptr<ResNet> make_resnet(const ResNetConfig& config);
std::shared_ptr<ResNet> make_resnet(const std::string& name, int64_t num_classes = 1000);

// Loads a torchvision ResNet state_dict (conv1.weight, layer1.0.bn1.running_mean,
// fc.weight ...). A model without a classifier ignores fc.*; every other
// tensor must match by name and shape.
void load_torchvision_weights(ResNet& model, const NamedTensors& state);

}  // namespace dml::nn
