#pragma once
// 2-D convolution on a CUDA device through cuDNN: the CPU kernels'
// signatures (kernels/cpu/conv2d.h) plus the device, on whose stream (and
// cuDNN handle) they run. NCHW, stride, padding, dilation, groups; f32 and
// f64. f32 runs with FMA math (no TF32) unless set_allow_tf32 (blas.h) is on,
// the one switch for cuBLAS and cuDNN.
//
// Algorithms: the first time a problem is seen, cuDNN's heuristics
// (cudnnGet*_v7) rank the algorithms for it; the first one that is
// supported and whose workspace fits kMaxConvWorkspace is kept in a
// process-wide cache keyed by the whole problem (ConvProblem). Its workspace
// comes from the caching allocator at each call.
#include <compare>
#include <cstddef>
#include <cstdint>

#include "kernels/conv_shape.h"

namespace dml::cuda {

using kernels::ConvShape;

template <class T>
void conv2d_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y, int device);
template <class T>
void conv2d_backward_data(const ConvShape& s, const T* dy, const T* w, T* dx, int device);
template <class T>
void conv2d_backward_filter(const ConvShape& s, const T* x, const T* dy, T* dw, T* db, int device);

constexpr size_t kMaxConvWorkspace = size_t(1) << 30;

enum class ConvPass { forward, backward_data, backward_filter };

// Everything an algorithm choice depends on: the key of the cache.
struct ConvProblem {
  ConvPass pass;
  int device;
  int data_type;  // cudnnDataType_t
  int layout;     // cudnnTensorFormat_t (NCHW)
  int math_type;  // cudnnMathType_t asked for: FMA, or default where TF32 is allowed
  int64_t n, c, h, w, o, kh, kw, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups;
  auto operator<=>(const ConvProblem&) const = default;
};

// The problem a call of `pass` on this shape, element type and device poses
// now (the math type follows the TF32 switch).
template <class T>
ConvProblem conv_problem(const ConvShape& s, ConvPass pass, int device);

// What the cache holds for a problem.
struct ConvAlgorithm {
  int algo;  // a cudnnConvolution{Fwd,BwdData,BwdFilter}Algo_t
  int math_type;
  size_t workspace_bytes;
  auto operator<=>(const ConvAlgorithm&) const = default;
};

// For tests and benchmarks: the number of problems cached, and how many
// times an algorithm was searched for (once per new problem).
size_t conv_algorithm_cache_size();
uint64_t conv_algorithm_searches();
// The cached choice for a problem, if any (does not search).
bool cached_conv_algorithm(const ConvProblem& p, ConvAlgorithm* out);

}  // namespace dml::cuda
