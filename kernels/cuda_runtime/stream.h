#pragma once
// One stream per device: every kernel launch, copy, cuBLAS and cuDNN call of
// the engine goes on it, so work on a device runs in issue order and the
// caching allocator may reuse a block as soon as it is released (stream-
// ordered reuse). Created on first use, never destroyed (process lifetime).
#include <cuda_runtime.h>

namespace dml::cuda {

cudaStream_t stream(int device);

// Makes `device` current and returns its stream: the prologue of every
// launcher (`auto s = use_device(device); kernel<<<grid, block, 0, s>>>(...)`).
cudaStream_t use_device(int device);

// Waits for everything queued on the device's stream (before a host read).
void synchronize(int device);

}  // namespace dml::cuda
