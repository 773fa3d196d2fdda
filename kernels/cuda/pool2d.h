#pragma once
// Max and average pooling on a CUDA device: the CPU kernels' signatures
// (kernels/cpu/pool2d.h) plus the device, on whose stream they run. Each
// output element is computed by kernels/pool_window.h, the code the CPU runs.
// The backward gathers instead of scattering: one thread per input element
// sums the gradients of the outputs whose window holds it (max: whose argmax
// it is), in increasing output order - the order of the CPU's scatter - so
// overlapping windows need no atomics and the result is deterministic.
// Threads walk elements in memory order, so channels-last max pooling
// (PoolPlanes) reads and writes coalesced along the channels.
#include <cstdint>

#include "kernels/pool_window.h"

namespace dml::cuda {

using kernels::PoolAxis;
using kernels::PoolPlanes;

template <class T>
void max_pool2d_forward(const T* x, const PoolPlanes& planes, const PoolAxis& ay,
                        const PoolAxis& ax, T* y, int64_t* argmax, int device);
template <class T>
void max_pool2d_backward(const T* dy, const int64_t* argmax, const PoolPlanes& planes,
                         const PoolAxis& ay, const PoolAxis& ax, T* dx, int device);
template <class T>
void avg_pool2d_forward(const T* x, int64_t planes, const PoolAxis& ay, const PoolAxis& ax, T* y,
                        int device);
template <class T>
void avg_pool2d_backward(const T* dy, int64_t planes, const PoolAxis& ay, const PoolAxis& ax, T* dx,
                         int device);

}  // namespace dml::cuda
