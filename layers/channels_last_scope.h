#pragma once
// While a ChannelsLastScope(true) is open on a thread, Conv2d and BatchNorm2d
// take and return channels-last activations [N, H, W, C]
// (engine/channels_last.h): a ResNet opens one around its backbone
// (ResNet::set_channels_last). Scopes nest; the previous state comes back
// when one closes.
namespace dml::nn {

class ChannelsLastScope {
 public:
  explicit ChannelsLastScope(bool on);
  ~ChannelsLastScope();
  ChannelsLastScope(const ChannelsLastScope&) = delete;
  ChannelsLastScope& operator=(const ChannelsLastScope&) = delete;

 private:
  bool previous_;
};

bool channels_last_active();

}  // namespace dml::nn
