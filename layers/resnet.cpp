#include "layers/resnet.h"

#include <sstream>

#include "engine/autocast.h"
#include "engine/channels_last.h"
#include "engine/ops.h"
#include "layers/channels_last_scope.h"
#include "layers/init.h"

namespace dml::nn {

namespace {

// torchvision's initialisation: convolutions N(0, 2 / fan_out), biasless.
std::shared_ptr<Conv2d> conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad) {
  auto c = std::make_shared<Conv2d>(Conv2dSpec{.in_channels = in,
                                               .out_channels = out,
                                               .kernel = k,
                                               .stride = stride,
                                               .padding = pad,
                                               .bias = false});
  copy_into(c->weight, normal_init(c->weight.shape(), 2.0, out * k * k));
  return c;
}

std::shared_ptr<BatchNorm2d> bn(int64_t c, bool zero_gamma = false) {
  auto b = std::make_shared<BatchNorm2d>(c);
  if (zero_gamma) copy_into(b->weight, zeros({c}));
  return b;
}

// A 1x1 projection of the shortcut when the block changes shape.
std::shared_ptr<Sequential> downsample(int64_t in, int64_t out, int64_t stride) {
  if (stride == 1 && in == out) return nullptr;
  return std::make_shared<Sequential>(
      std::initializer_list<std::shared_ptr<Module>>{conv(in, out, 1, stride, 0), bn(out)});
}

}  // namespace

BasicBlock::BasicBlock(int64_t in, int64_t planes, int64_t stride, bool zero_init) {
  conv1_ = register_module("conv1", conv(in, planes, 3, stride, 1));
  bn1_ = register_module("bn1", bn(planes));
  conv2_ = register_module("conv2", conv(planes, planes, 3, 1, 1));
  bn2_ = register_module("bn2", bn(planes, zero_init));
  if (auto d = downsample(in, planes * expansion, stride))
    downsample_ = register_module("downsample", d);
}

// Each batch norm runs fused with the ReLU (and the residual add) after it.
Tensor BasicBlock::forward(const Tensor& x) {
  Tensor out = bn1_->forward_relu(conv1_->forward(x));
  out = conv2_->forward(out);
  return bn2_->forward_relu(out, downsample_ ? downsample_->forward(x) : x);
}

Bottleneck::Bottleneck(int64_t in, int64_t planes, int64_t stride, bool zero_init) {
  conv1_ = register_module("conv1", conv(in, planes, 1, 1, 0));
  bn1_ = register_module("bn1", bn(planes));
  conv2_ = register_module("conv2", conv(planes, planes, 3, stride, 1));  // v1.5 stride
  bn2_ = register_module("bn2", bn(planes));
  conv3_ = register_module("conv3", conv(planes, planes * expansion, 1, 1, 0));
  bn3_ = register_module("bn3", bn(planes * expansion, zero_init));
  if (auto d = downsample(in, planes * expansion, stride))
    downsample_ = register_module("downsample", d);
}

Tensor Bottleneck::forward(const Tensor& x) {
  Tensor out = bn1_->forward_relu(conv1_->forward(x));
  out = bn2_->forward_relu(conv2_->forward(out));
  out = conv3_->forward(out);
  return bn3_->forward_relu(out, downsample_ ? downsample_->forward(x) : x);
}

ResNet::ResNet(const ResNetConfig& c) : config_(c) {
  DML_CHECK(!c.depths.empty() && c.depths.size() == c.widths.size(), "ResNet: ", c.depths.size(),
            " stage depths for ", c.widths.size(), " stage widths");
  for (size_t i = 0; i < c.depths.size(); ++i)
    DML_CHECK(c.depths[i] > 0 && c.widths[i] > 0, "ResNet: stage ", i + 1,
              " needs a positive depth and width");
  const int64_t expansion =
      c.block == BlockKind::basic ? BasicBlock::expansion : Bottleneck::expansion;
  int64_t in = c.widths[0];
  conv1_ = register_module(
      "conv1", c.small_stem ? conv(c.in_channels, in, 3, 1, 1) : conv(c.in_channels, in, 7, 2, 3));
  bn1_ = register_module("bn1", bn(in));
  for (size_t s = 0; s < c.depths.size(); ++s) {
    auto stage = std::make_shared<Sequential>();
    for (int64_t b = 0; b < c.depths[s]; ++b) {
      int64_t stride = (s > 0 && b == 0) ? 2 : 1;
      if (c.block == BlockKind::basic)
        stage->push_back(
            std::make_shared<BasicBlock>(in, c.widths[s], stride, c.zero_init_residual));
      else
        stage->push_back(
            std::make_shared<Bottleneck>(in, c.widths[s], stride, c.zero_init_residual));
      in = c.widths[s] * expansion;
    }
    stages_.push_back(register_module("layer" + std::to_string(s + 1), stage));
  }
  feature_dim_ = in;
  if (c.num_classes > 0) fc_ = register_module("fc", std::make_shared<Linear>(in, c.num_classes));
}

Tensor ResNet::forward_features(const Tensor& x) {
  DML_CHECK(x.dim() == 4 && x.size(1) == config_.in_channels, "ResNet: input ", ::dml::describe(x),
            " must be [N, ", config_.in_channels, ", H, W]");
  // Under bf16 autocast the activations stay bf16 from the first
  // convolution to the last block: every consumer of a convolution here
  // (batch norm, fused with the residual add and ReLU; the stem's max pool;
  // the next block's convolution and residual) takes bf16, with f32
  // parameters and f32 arithmetic. The features go back to f32 at the end,
  // so the head, losses and everything after see f32 as without autocast.
  // With channels_last the backbone runs on [N, H, W, C] activations
  // (cuDNN's preferred layout) and gives the feature map back as NCHW.
  Tensor h;
  {
    AutocastActivationsGuard keep_bf16(true);
    ChannelsLastScope layout(channels_last_);
    h = bn1_->forward_relu(conv1_->forward(channels_last_ ? to_channels_last(x) : x));
    if (!config_.small_stem)
      h = channels_last_ ? max_pool2d_channels_last(h, 3, 2, 1) : max_pool2d(h, 3, 2, 1);
    for (auto& stage : stages_) h = stage->forward(h);
    if (channels_last_) h = to_channels_first(h);
  }
  return h.dtype() == DType::bf16 && x.dtype() != DType::bf16 ? h.to(DType::f32) : h;
}

Tensor ResNet::forward(const Tensor& x) {
  Tensor pooled = adaptive_avg_pool2d(forward_features(x), 1, 1).flatten(1);
  return fc_ ? fc_->forward(pooled) : pooled;
}

std::string ResNet::describe() const {
  std::ostringstream os;
  os << (config_.block == BlockKind::basic ? "ResNet(basic" : "ResNet(bottleneck");
  for (int64_t v : config_.depths) os << '-' << v;
  os << (config_.small_stem ? ", small stem" : "") << ", features " << feature_dim_ << ")";
  return os.str();
}

namespace {
void freeze_all(Module& m, bool frozen) {
  if (auto* b = dynamic_cast<BatchNorm2d*>(&m)) b->set_frozen(frozen);
  for (auto& [name, child] : m.children()) freeze_all(*child, frozen);
}
}  // namespace

void ResNet::set_batch_norm_frozen(bool frozen) {
  freeze_all(*this, frozen);
}

std::shared_ptr<ResNet> make_resnet(const ResNetConfig& config) {
  return std::make_shared<ResNet>(config);
}

std::shared_ptr<ResNet> make_resnet(const std::string& name, int64_t num_classes) {
  ResNetConfig c = resnet_config(name);
  c.num_classes = num_classes;
  return make_resnet(c);
}

void load_torchvision_weights(ResNet& model, const NamedTensors& state) {
  if (model.config().num_classes > 0) return model.load_state_dict(state, /*strict=*/true);
  NamedTensors kept;
  for (const auto& [name, t] : state)
    if (name.rfind("fc.", 0) != 0) kept.emplace_back(name, t);
  model.load_state_dict(kept, /*strict=*/true);
}

}  // namespace dml::nn
