#pragma once
// The format names of the files a run writes ("dml-checkpoint-<N>",
// "dml-model-<N>" in the safetensors metadata "format"), and the newest
// version of each this build knows. Header-only, so a deployment that reads
// model files without the training stack (api/) checks them the same way.
#include <charconv>
#include <string>

namespace dml::train {

// The versions this build writes; it reads these and every older one.
inline constexpr const char* kCheckpointFormat = "dml-checkpoint-";
inline constexpr int kCheckpointVersion = 2;
inline constexpr const char* kModelFormat = "dml-model-";
inline constexpr int kModelVersion = 1;
// A checkpoint's model tensors are its tensors under this prefix (an exported
// model's are under their own names).
inline constexpr const char* kCheckpointModelPrefix = "model.";

// The N of "<prefix>N", or -1 when `format` is not of that kind.
inline int format_version(const std::string& format, const std::string& prefix) {
  if (format.rfind(prefix, 0) != 0) return -1;
  int version = -1;
  const char* first = format.data() + prefix.size();
  const char* last = format.data() + format.size();
  const auto [end, ec] = std::from_chars(first, last, version);
  return ec == std::errc() && end == last && first != last && version >= 1 ? version : -1;
}

}  // namespace dml::train
