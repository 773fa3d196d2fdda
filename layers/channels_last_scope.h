#pragma once
// While a ChannelsLastScope(true) is open on a thread, Conv2d and BatchNorm2d
// take and return channels-last activations [N, H, W, C]
// (engine/channels_last.h): a ResNet opens one around its backbone
// (ResNet::set_channels_last). Scopes nest; the previous state comes back
// when one closes.
#include "engine/scoped_value.h"

namespace dml::nn {

class ChannelsLastScope {
 public:
  explicit ChannelsLastScope(bool on);

 private:
  ScopedValue<bool> on_;
};

bool channels_last_active();

}  // namespace dml::nn
