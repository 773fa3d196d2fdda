#pragma once
// Max and average pooling over NCHW planes (planes = N * C), each output
// reading the window that kernels/pool_window.h gives for its row and column.
// Max pooling also walks channels-last (NHWC) planes (PoolPlanes): the
// ResNet stem's pool in a channels-last backbone.
#include <cstdint>

#include "kernels/pool_window.h"

namespace dml::cpu {

using kernels::PoolAxis;
using kernels::PoolPlanes;
using kernels::PoolWindow;

// argmax (position within the plane), laid out as y, is written for the
// backward.
template <class T>
void max_pool2d_forward(const T* x, const PoolPlanes& planes, const PoolAxis& ay,
                        const PoolAxis& ax, T* y, int64_t* argmax);
// dx = dy scattered to the argmax positions; dx is overwritten.
template <class T>
void max_pool2d_backward(const T* dy, const int64_t* argmax, const PoolPlanes& planes,
                         const PoolAxis& ay, const PoolAxis& ax, T* dx);
template <class T>
void avg_pool2d_forward(const T* x, int64_t planes, const PoolAxis& ay, const PoolAxis& ax, T* y);
// dx = each output's gradient over its divisor, spread over its window; overwritten.
template <class T>
void avg_pool2d_backward(const T* dy, int64_t planes, const PoolAxis& ay, const PoolAxis& ax,
                         T* dx);

}  // namespace dml::cpu
