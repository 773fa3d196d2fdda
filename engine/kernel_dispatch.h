#pragma once
// The one place an op picks a backend. DML_KERNEL(device, name, args...)
// calls cpu::name(args...) or, for a CUDA device, cuda::name(args...,
// device.index): a CUDA kernel takes its CPU twin's arguments plus the device
// (and runs on that device's stream). A build without CUDA compiles only the
// CPU call. The caller includes both kernel headers (CUDA's under
// DML_WITH_CUDA).
#include "engine/device.h"

#ifdef DML_WITH_CUDA
#define DML_KERNEL(device, name, ...)                                  \
  ((device).is_cuda() ? ::dml::cuda::name(__VA_ARGS__, (device).index) \
                      : ::dml::cpu::name(__VA_ARGS__))
#else
#define DML_KERNEL(device, name, ...) ((void)(device), ::dml::cpu::name(__VA_ARGS__))
#endif
