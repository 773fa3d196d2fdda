#pragma once
#include <string>

namespace dml {

enum class DeviceKind { CPU, CUDA };

struct Device {
  DeviceKind kind = DeviceKind::CPU;
  int index = 0;

  static Device cpu() { return {}; }
  static Device cuda(int i = 0) { return {DeviceKind::CUDA, i}; }
  bool is_cpu() const { return kind == DeviceKind::CPU; }
  bool is_cuda() const { return kind == DeviceKind::CUDA; }
  bool operator==(const Device&) const = default;
  std::string str() const;
};

// Parses "cpu", "cuda", "cuda:1"; throws on anything else.
Device parse_device(const std::string& s);

// True when this build has the CUDA backend and a usable device is present.
// Any failure of the runtime (no driver, no device) counts as "no GPU".
bool cuda_available();
int cuda_device_count();

}  // namespace dml
