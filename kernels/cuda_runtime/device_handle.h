#pragma once
// A library handle per device (cuBLAS, cuDNN): created on first use with the
// device current, bound to the device's stream (stream.h) so the library's
// work runs in issue order with every other kernel of the device, and kept
// for the process's lifetime like the stream. Its mutex keeps one call and
// the settings it makes (math mode) together when several threads issue work
// to one device.
#include <map>
#include <memory>
#include <mutex>

#include "kernels/cuda_runtime/stream.h"

namespace dml::cuda {

template <class Handle>
struct DeviceHandle {
  Handle handle = nullptr;
  std::mutex mu;
};

// bind(&handle, stream) creates the handle and sets its stream, checking
// both calls. One table per Handle type.
template <class Handle>
DeviceHandle<Handle>& device_handle(int device, void (*bind)(Handle*, cudaStream_t)) {
  static std::mutex mu;
  static std::map<int, std::unique_ptr<DeviceHandle<Handle>>> per_device;
  std::lock_guard<std::mutex> lock(mu);
  std::unique_ptr<DeviceHandle<Handle>>& h = per_device[device];
  if (!h) {
    auto made = std::make_unique<DeviceHandle<Handle>>();
    cudaStream_t s = use_device(device);  // handles bind the current device
    bind(&made->handle, s);
    h = std::move(made);
  }
  return *h;
}

}  // namespace dml::cuda
