#include "dml/data/device_prefetch.h"

#include <utility>

namespace dml::data {

std::optional<Batch> DevicePrefetch::load() {
  std::optional<Batch> batch = loader_.next();
  if (batch) batch->images = batch->images.to(device_);
  return batch;
}

std::optional<Batch> DevicePrefetch::next() {
  if (!prefetched_) return load();
  prefetched_ = false;
  return std::exchange(staged_, std::nullopt);
}

void DevicePrefetch::prefetch() {
  if (prefetched_) return;
  staged_ = load();
  prefetched_ = true;
}

}  // namespace dml::data
