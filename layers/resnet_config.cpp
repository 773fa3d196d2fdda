#include "layers/resnet_config.h"

#include "base/error.h"

namespace dml::nn {

std::vector<std::string> resnet_names() {
  return {"resnet18", "resnet34", "resnet50", "resnet101", "small_resnet10", "small_resnet18"};
}

ResNetConfig resnet_config(const std::string& name) {
  ResNetConfig c;
  if (name == "resnet18") return c;
  if (name == "resnet34") {
    c.depths = {3, 4, 6, 3};
    return c;
  }
  if (name == "resnet50" || name == "resnet101") {
    c.block = BlockKind::bottleneck;
    c.depths =
        name == "resnet50" ? std::vector<int64_t>{3, 4, 6, 3} : std::vector<int64_t>{3, 4, 23, 3};
    return c;
  }
  if (name == "small_resnet10" || name == "small_resnet18") {
    c.small_stem = true;
    c.widths = {32, 64, 128, 256};
    c.depths = name == "small_resnet10" ? std::vector<int64_t>{1, 1, 1, 1}
                                        : std::vector<int64_t>{2, 2, 2, 2};
    return c;
  }
  std::string known;
  for (const auto& n : resnet_names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown ResNet '" + name + "'; known: " + known);
}

}  // namespace dml::nn
