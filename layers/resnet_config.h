#pragma once
// The shape of a ResNet (block kind, depths, widths, stem) by name: what both
// the training model (layers/resnet.h) and the inference path
// (layers/inference_model.h) build from, without the Module code.
#include <cstdint>
#include <string>
#include <vector>

namespace dml::nn {

enum class BlockKind { basic, bottleneck };

struct ResNetConfig {
  BlockKind block = BlockKind::basic;
  std::vector<int64_t> depths = {2, 2, 2, 2};         // blocks per stage
  std::vector<int64_t> widths = {64, 128, 256, 512};  // planes per stage
  int64_t in_channels = 3;
  bool small_stem = false;          // 3x3 stride-1 stem without max pool
  int64_t num_classes = 1000;       // 0: no classifier; forward() gives pooled features
  bool zero_init_residual = false;  // last BN gamma of each block starts at 0
};

// "resnet18", "resnet34", "resnet50", "resnet101", and the small presets
// "small_resnet10" (basic, 1-1-1-1, widths 32-256) and "small_resnet18"
// (basic, 2-2-2-2, widths 32-256). Throws on any other name, listing these.
ResNetConfig resnet_config(const std::string& name);
std::vector<std::string> resnet_names();

}  // namespace dml::nn
