#include "engine/device.h"

#include "base/error.h"

#ifdef DML_WITH_CUDA
#include "kernels/cuda_runtime/device_memory.h"
#endif

namespace dml {

std::string Device::str() const {
  return is_cpu() ? "cpu" : "cuda:" + std::to_string(index);
}

Device parse_device(const std::string& s) {
  if (s == "cpu") return Device::cpu();
  if (s == "cuda") return Device::cuda(0);
  if (s.rfind("cuda:", 0) == 0) {
    try {
      size_t used = 0;
      int i = std::stoi(s.substr(5), &used);
      if (used == s.size() - 5 && i >= 0) return Device::cuda(i);
    } catch (const std::exception&) {
    }
  }
  throw Error("device '" + s + "' not understood: use cpu, cuda or cuda:N");
}

int cuda_device_count() {
#ifdef DML_WITH_CUDA
  return cuda::device_count();
#else
  return 0;
#endif
}

bool cuda_available() {
  return cuda_device_count() > 0;
}

}  // namespace dml
