#include "layers/channels_last_scope.h"

namespace dml::nn {

namespace {
thread_local bool t_channels_last = false;
}  // namespace

ChannelsLastScope::ChannelsLastScope(bool on) : on_(t_channels_last, on) {}

bool channels_last_active() {
  return t_channels_last;
}

}  // namespace dml::nn
