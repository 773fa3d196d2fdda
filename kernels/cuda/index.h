#pragma once
// Index kernels on a CUDA device over [outer, n, inner] views, as
// kernels/cpu/index.h plus the device, on whose stream they run. Indices are
// i64 device memory and already validated by the caller, except in
// find_out_of_range, which is the validation.
//
// index_add and scatter_add accumulate with atomicAdd, so where several
// source elements land on one destination (repeated indices) the order of
// the additions, and with it the rounding of the sum, varies from run to run:
// results agree with the CPU's in-order sum within a few ulps of the sum of
// magnitudes, not bit for bit.
#include <cstdint>

namespace dml::cuda {

template <class T>
void index_select(const T* x, const int64_t* index, T* out, int64_t outer, int64_t n, int64_t k,
                  int64_t inner, int device);
template <class T>
void index_add(T* x, const int64_t* index, const T* src, int64_t outer, int64_t n, int64_t k,
               int64_t inner, int device);
template <class T>
void gather(const T* x, const int64_t* index, T* out, int64_t outer, int64_t n, int64_t k,
            int64_t inner, int device);
template <class T>
void scatter_add(T* x, const int64_t* index, const T* src, int64_t outer, int64_t n, int64_t k,
                 int64_t inner, int device);
// out[r, labels[r]] = 1 over a zeroed [rows, classes] buffer.
template <class T>
void one_hot(const int64_t* labels, T* out, int64_t rows, int64_t classes, int device);

// First position whose index is out of [0, n), or -1: the CPU's answer. Waits
// for the device and copies back one int64, not the index tensor.
// (kernels/cuda/index_bounds.cpp, which owns the result word.)
int64_t find_out_of_range(const int64_t* index, int64_t count, int64_t n, int device);
// The search itself: sets *first_bad (device memory) to the first bad
// position, or all ones when there is none.
void queue_find_out_of_range(const int64_t* index, int64_t count, int64_t n,
                             unsigned long long* first_bad, int device);

}  // namespace dml::cuda
