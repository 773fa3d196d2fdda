#include "kernels/cuda/conv2d.h"

#include <climits>
#include <map>
#include <mutex>
#include <type_traits>
#include <vector>

#include "kernels/cuda/blas.h"
#include "kernels/cuda/conv_bias.h"
#include "kernels/cuda_runtime/check.h"
#include "kernels/cuda_runtime/dnn.h"
#include "kernels/cuda_runtime/scratch.h"
#include "kernels/cuda_runtime/stream.h"

namespace dml::cuda {

namespace {

template <class T>
constexpr cudnnDataType_t data_type() {
  if constexpr (std::is_same_v<T, bf16>)
    return CUDNN_DATA_BFLOAT16;
  else
    return std::is_same_v<T, float> ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
}

// The type cuDNN accumulates in (the convolution descriptor's): the data type,
// except f32 for bf16 tensors (cuDNN's BFLOAT16_CONFIG).
template <class T>
constexpr cudnnDataType_t compute_type() {
  return std::is_same_v<T, bf16> ? CUDNN_DATA_FLOAT : data_type<T>();
}

// alpha and beta: double for f64 data, float for f32 and bf16 (cuDNN's rule
// for its scaling parameters).
template <class T>
using Scale = std::conditional_t<std::is_same_v<T, double>, double, float>;

const char* type_name(int data_type) {
  switch (data_type) {
    case CUDNN_DATA_FLOAT:
      return "f32";
    case CUDNN_DATA_DOUBLE:
      return "f64";
    case CUDNN_DATA_BFLOAT16:
      return "bf16";
    default:
      return "an unknown type";
  }
}

std::string shape_text(const ConvShape& s) {
  return detail::concat("input [", s.n, ", ", s.c, ", ", s.h, ", ", s.w, "], weight [", s.o, ", ",
                        s.c / s.groups, ", ", s.kh, ", ", s.kw, "], stride ", s.stride_h, "x",
                        s.stride_w, ", padding ", s.pad_h, "x", s.pad_w, ", dilation ", s.dil_h,
                        "x", s.dil_w, ", groups ", s.groups);
}

// cuDNN's descriptors take int sizes.
int as_int(int64_t v, int64_t min, const char* what, const ConvShape& s) {
  DML_CHECK(v >= min && v <= INT_MAX, "cuda::conv2d: ", what, " = ", v,
            " is outside what cuDNN takes ([", min, ", 2^31)) for ", shape_text(s));
  return int(v);
}

cudnnTensorFormat_t layout(const ConvShape& s) {
  return s.channels_last ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
}

// The descriptors of one problem (NCHW or NHWC, the filter in the same
// layout; cross-correlation as every framework's conv2d).
struct ConvDescriptors {
  TensorDescriptor x, y;
  FilterDescriptor w;
  ConvolutionDescriptor conv;

  ConvDescriptors(const ConvShape& s, cudnnDataType_t type, cudnnDataType_t compute) {
    const int n = as_int(s.n, 1, "batch", s), c = as_int(s.c, 1, "channels", s);
    const int o = as_int(s.o, 1, "output channels", s), g = as_int(s.groups, 1, "groups", s);
    DML_CUDNN_CHECK(cudnnSetTensor4dDescriptor(
        x.get(), layout(s), type, n, c, as_int(s.h, 1, "height", s), as_int(s.w, 1, "width", s)));
    DML_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w.get(), type, layout(s), o, c / g,
                                               as_int(s.kh, 1, "kernel height", s),
                                               as_int(s.kw, 1, "kernel width", s)));
    DML_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
        conv.get(), as_int(s.pad_h, 0, "padding", s), as_int(s.pad_w, 0, "padding", s),
        as_int(s.stride_h, 1, "stride", s), as_int(s.stride_w, 1, "stride", s),
        as_int(s.dil_h, 1, "dilation", s), as_int(s.dil_w, 1, "dilation", s),
        CUDNN_CROSS_CORRELATION, compute));
    DML_CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv.get(), g));
    int dims[4] = {};
    DML_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(conv.get(), x.get(), w.get(), &dims[0],
                                                          &dims[1], &dims[2], &dims[3]));
    DML_CHECK(dims[0] == s.n && dims[1] == s.o && dims[2] == s.out_h() && dims[3] == s.out_w(),
              "cuda::conv2d: cuDNN computes an output of [", dims[0], ", ", dims[1], ", ", dims[2],
              ", ", dims[3], "], the engine [", s.n, ", ", s.o, ", ", s.out_h(), ", ", s.out_w(),
              "] for ", shape_text(s));
    DML_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y.get(), layout(s), type, n, o, dims[2], dims[3]));
  }

  void set_math(int math_type) {
    DML_CUDNN_CHECK(cudnnSetConvolutionMathType(conv.get(), cudnnMathType_t(math_type)));
  }
};

// The bias as a [1, o, 1, 1] tensor, broadcast over the output.
struct BiasDescriptor {
  TensorDescriptor d;
  BiasDescriptor(const ConvShape& s, cudnnDataType_t type) {
    DML_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d.get(), CUDNN_TENSOR_NCHW, type, 1,
                                               as_int(s.o, 1, "output channels", s), 1, 1));
  }
};

// The three passes' calls of the legacy API, behind one interface. Each
// lists fallbacks, tried when no heuristic choice is usable: algorithms that
// support every data type (f64 included), grouping and dilation.
template <ConvPass P>
struct PassApi;

template <>
struct PassApi<ConvPass::forward> {
  using Perf = cudnnConvolutionFwdAlgoPerf_t;
  static constexpr int kFallbacks[] = {CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                                       CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM};
  static int max_count(cudnnHandle_t h) {
    int n = 0;
    DML_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &n));
    return n;
  }
  static void heuristics(cudnnHandle_t h, const ConvDescriptors& d, int want, int* got,
                         Perf* perf) {
    DML_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, d.x.get(), d.w.get(), d.conv.get(),
                                                           d.y.get(), want, got, perf));
  }
  static cudnnStatus_t workspace(cudnnHandle_t h, const ConvDescriptors& d, int algo,
                                 size_t* bytes) {
    return cudnnGetConvolutionForwardWorkspaceSize(h, d.x.get(), d.w.get(), d.conv.get(), d.y.get(),
                                                   cudnnConvolutionFwdAlgo_t(algo), bytes);
  }
};

template <>
struct PassApi<ConvPass::backward_data> {
  using Perf = cudnnConvolutionBwdDataAlgoPerf_t;
  static constexpr int kFallbacks[] = {CUDNN_CONVOLUTION_BWD_DATA_ALGO_1,
                                       CUDNN_CONVOLUTION_BWD_DATA_ALGO_0};
  static int max_count(cudnnHandle_t h) {
    int n = 0;
    DML_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &n));
    return n;
  }
  static void heuristics(cudnnHandle_t h, const ConvDescriptors& d, int want, int* got,
                         Perf* perf) {
    DML_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
        h, d.w.get(), d.y.get(), d.conv.get(), d.x.get(), want, got, perf));
  }
  static cudnnStatus_t workspace(cudnnHandle_t h, const ConvDescriptors& d, int algo,
                                 size_t* bytes) {
    return cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w.get(), d.y.get(), d.conv.get(),
                                                        d.x.get(),
                                                        cudnnConvolutionBwdDataAlgo_t(algo), bytes);
  }
};

template <>
struct PassApi<ConvPass::backward_filter> {
  using Perf = cudnnConvolutionBwdFilterAlgoPerf_t;
  static constexpr int kFallbacks[] = {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1,
                                       CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0};
  static int max_count(cudnnHandle_t h) {
    int n = 0;
    DML_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &n));
    return n;
  }
  static void heuristics(cudnnHandle_t h, const ConvDescriptors& d, int want, int* got,
                         Perf* perf) {
    DML_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
        h, d.x.get(), d.y.get(), d.conv.get(), d.w.get(), want, got, perf));
  }
  static cudnnStatus_t workspace(cudnnHandle_t h, const ConvDescriptors& d, int algo,
                                 size_t* bytes) {
    return cudnnGetConvolutionBackwardFilterWorkspaceSize(
        h, d.x.get(), d.y.get(), d.conv.get(), d.w.get(), cudnnConvolutionBwdFilterAlgo_t(algo),
        bytes);
  }
};

// An algorithm is usable when cuDNN sizes its workspace under this math type
// (it refuses an algorithm it does not implement for the problem) and the
// workspace fits the cap.
template <ConvPass P>
bool usable(cudnnHandle_t h, ConvDescriptors& d, int algo, int math_type, ConvAlgorithm* out) {
  d.set_math(math_type);
  size_t bytes = 0;
  if (PassApi<P>::workspace(h, d, algo, &bytes) != CUDNN_STATUS_SUCCESS) return false;
  if (bytes > kMaxConvWorkspace) return false;
  *out = {algo, math_type, bytes};
  return true;
}

// The heuristics' best usable algorithm, else a fallback. FMA math (f32
// without TF32) is kept whatever math type the heuristics name: it is what
// rules TF32 out. Otherwise the algorithm runs with the math type cuDNN
// ranked it for (tensor cores for f64 DMMA or TF32 where allowed).
template <ConvPass P>
ConvAlgorithm search(cudnnHandle_t h, ConvDescriptors& d, const ConvProblem& p,
                     const ConvShape& s) {
  using Api = PassApi<P>;
  const int max = Api::max_count(h);
  std::vector<typename Api::Perf> perf(size_t(max > 0 ? max : 1));
  int got = 0;
  d.set_math(p.math_type);
  Api::heuristics(h, d, int(perf.size()), &got, perf.data());
  ConvAlgorithm chosen{};
  for (int i = 0; i < got && i < int(perf.size()); ++i) {
    const typename Api::Perf& r = perf[size_t(i)];
    if (r.status != CUDNN_STATUS_SUCCESS || r.memory > kMaxConvWorkspace) continue;
    const int math = p.math_type == CUDNN_FMA_MATH ? int(CUDNN_FMA_MATH) : int(r.mathType);
    if (usable<P>(h, d, int(r.algo), math, &chosen)) return chosen;
  }
  for (int algo : Api::kFallbacks)
    if (usable<P>(h, d, algo, p.math_type, &chosen)) return chosen;
  // bf16 asks for tensor cores; a problem without a tensor-core kernel (some
  // grouped or dilated shapes) may still have one under the default math.
  if (p.math_type == CUDNN_TENSOR_OP_MATH)
    for (int algo : Api::kFallbacks)
      if (usable<P>(h, d, algo, CUDNN_DEFAULT_MATH, &chosen)) return chosen;
  throw Error(detail::concat(
      "cuda::conv2d: cuDNN ", cudnn_version(), " offers no algorithm for the ",
      P == ConvPass::forward         ? "forward"
      : P == ConvPass::backward_data ? "data gradient"
                                     : "filter gradient",
      " of ", shape_text(s), " in ", type_name(p.data_type), "; run this convolution on the CPU"));
}

// The process-wide cache: one search per problem, then lookups.
struct AlgorithmCache {
  std::mutex mu;
  std::map<ConvProblem, ConvAlgorithm> entries;
  uint64_t searches = 0;
};
AlgorithmCache& algorithm_cache() {
  static AlgorithmCache cache;
  return cache;
}

// The cached algorithm for the problem, searching (and caching) on first use.
// The search runs under the device's handle lock, not the cache's.
template <ConvPass P>
ConvAlgorithm algorithm_for(cudnnHandle_t h, ConvDescriptors& d, const ConvProblem& p,
                            const ConvShape& s) {
  AlgorithmCache& cache = algorithm_cache();
  {
    std::lock_guard<std::mutex> lock(cache.mu);
    auto it = cache.entries.find(p);
    if (it != cache.entries.end()) return it->second;
  }
  const ConvAlgorithm found = search<P>(h, d, p, s);
  std::lock_guard<std::mutex> lock(cache.mu);
  ++cache.searches;
  return cache.entries.emplace(p, found).first->second;  // a racing search's entry stays
}

// Descriptors, algorithm (math type set) and workspace of one call, with
// the device's handle locked; then run(handle, descriptors, algorithm, workspace).
template <class T, ConvPass P, class Run>
void run_pass(const ConvShape& s, int device, Run&& run) {
  const ConvProblem p = conv_problem<T>(s, P, device);
  with_cudnn(device, [&](cudnnHandle_t h) {
    ConvDescriptors d(s, data_type<T>(), compute_type<T>());
    const ConvAlgorithm a = algorithm_for<P>(h, d, p, s);
    d.set_math(a.math_type);
    Scratch workspace(a.workspace_bytes, device);
    run(h, d, a.algo, workspace);
  });
}

void zero(void* p, size_t bytes, int device) {
  if (bytes) DML_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, use_device(device)));
}

// The math type asked of the heuristics: FMA only for f32 without TF32;
// tensor cores for bf16 (what it is for); the default (DMMA for f64, TF32 for
// f32 where allowed) otherwise.
template <class T>
cudnnMathType_t requested_math() {
  if constexpr (std::is_same_v<T, bf16>)
    return CUDNN_TENSOR_OP_MATH;
  else
    return std::is_same_v<T, float> && !allow_tf32() ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH;
}

}  // namespace

template <class T>
ConvProblem conv_problem(const ConvShape& s, ConvPass pass, int device) {
  return {pass,
          device,
          int(data_type<T>()),
          int(layout(s)),
          int(requested_math<T>()),
          s.n,
          s.c,
          s.h,
          s.w,
          s.o,
          s.kh,
          s.kw,
          s.stride_h,
          s.stride_w,
          s.pad_h,
          s.pad_w,
          s.dil_h,
          s.dil_w,
          s.groups};
}

size_t conv_algorithm_cache_size() {
  AlgorithmCache& cache = algorithm_cache();
  std::lock_guard<std::mutex> lock(cache.mu);
  return cache.entries.size();
}

uint64_t conv_algorithm_searches() {
  AlgorithmCache& cache = algorithm_cache();
  std::lock_guard<std::mutex> lock(cache.mu);
  return cache.searches;
}

bool cached_conv_algorithm(const ConvProblem& p, ConvAlgorithm* out) {
  AlgorithmCache& cache = algorithm_cache();
  std::lock_guard<std::mutex> lock(cache.mu);
  auto it = cache.entries.find(p);
  if (it == cache.entries.end()) return false;
  *out = it->second;
  return true;
}

// cuDNN takes no empty dims: an empty batch or output is handled here (an
// empty output needs nothing; the gradients of an empty batch are zeros).
// A convolution without input channels has no cuDNN form and is refused.
template <class T>
void conv2d_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y, int device) {
  DML_CHECK(!bias || !s.channels_last,
            "cuda::conv2d: a channels-last convolution takes no bias (add it after)");
  if (s.n * s.o * s.out_h() * s.out_w() == 0) return;
  // bf16: y starts as the broadcast bias and the convolution accumulates onto
  // it (beta = 1), so conv + bias is rounded to bf16 once, as on the CPU;
  // adding the bias afterwards would round twice.
  constexpr bool kBf16 = std::is_same_v<T, bf16>;
  if constexpr (kBf16)
    if (bias) fill_channels(bias, y, s.n, s.o, s.out_h() * s.out_w(), device);
  const Scale<T> one = 1, zero_scale = 0;
  const Scale<T>* beta = kBf16 && bias ? &one : &zero_scale;
  run_pass<T, ConvPass::forward>(
      s, device, [&](cudnnHandle_t h, ConvDescriptors& d, int algo, Scratch& ws) {
        DML_CUDNN_CHECK(cudnnConvolutionForward(h, &one, d.x.get(), x, d.w.get(), w, d.conv.get(),
                                                cudnnConvolutionFwdAlgo_t(algo), ws.get(),
                                                ws.bytes(), beta, d.y.get(), y));
        if (kBf16 || !bias) return;
        BiasDescriptor b(s, data_type<T>());
        DML_CUDNN_CHECK(cudnnAddTensor(h, &one, b.d.get(), bias, &one, d.y.get(), y));
      });
}

template <class T>
void conv2d_backward_data(const ConvShape& s, const T* dy, const T* w, T* dx, int device) {
  if (s.n * s.c * s.h * s.w == 0) return;
  const Scale<T> one = 1, zero_scale = 0;
  run_pass<T, ConvPass::backward_data>(
      s, device, [&](cudnnHandle_t h, ConvDescriptors& d, int algo, Scratch& ws) {
        DML_CUDNN_CHECK(cudnnConvolutionBackwardData(
            h, &one, d.w.get(), w, d.y.get(), dy, d.conv.get(), cudnnConvolutionBwdDataAlgo_t(algo),
            ws.get(), ws.bytes(), &zero_scale, d.x.get(), dx));
      });
}

template <class T>
void conv2d_backward_filter(const ConvShape& s, const T* x, const T* dy, T* dw, T* db, int device) {
  DML_CHECK(!db || !s.channels_last, "cuda::conv2d: a channels-last convolution has no bias");
  const int64_t dw_size = s.o * (s.c / s.groups) * s.kh * s.kw;
  if (s.n == 0 || s.out_h() * s.out_w() == 0) {  // no output positions: both sums are empty
    zero(dw, sizeof(T) * size_t(dw_size), device);
    if (db) zero(db, sizeof(T) * size_t(s.o), device);
    return;
  }
  if (s.o == 0) return;
  // bf16: the bias gradient is summed in f32 by channel_sums (conv_bias.h).
  constexpr bool kBf16 = std::is_same_v<T, bf16>;
  const Scale<T> one = 1, zero_scale = 0;
  run_pass<T, ConvPass::backward_filter>(
      s, device, [&](cudnnHandle_t h, ConvDescriptors& d, int algo, Scratch& ws) {
        DML_CUDNN_CHECK(
            cudnnConvolutionBackwardFilter(h, &one, d.x.get(), x, d.y.get(), dy, d.conv.get(),
                                           cudnnConvolutionBwdFilterAlgo_t(algo), ws.get(),
                                           ws.bytes(), &zero_scale, d.w.get(), dw));
        if (kBf16 || !db) return;
        BiasDescriptor b(s, data_type<T>());
        DML_CUDNN_CHECK(
            cudnnConvolutionBackwardBias(h, &one, d.y.get(), dy, &zero_scale, b.d.get(), db));
      });
  if constexpr (kBf16)
    if (db) channel_sums(dy, db, s.n, s.o, s.out_h() * s.out_w(), device);
}

#define DML_INSTANTIATE(T)                                                                  \
  template ConvProblem conv_problem<T>(const ConvShape&, ConvPass, int);                    \
  template void conv2d_forward<T>(const ConvShape&, const T*, const T*, const T*, T*, int); \
  template void conv2d_backward_data<T>(const ConvShape&, const T*, const T*, T*, int);     \
  template void conv2d_backward_filter<T>(const ConvShape&, const T*, const T*, T*, T*, int);
DML_INSTANTIATE(float)
DML_INSTANTIATE(double)
DML_INSTANTIATE(bf16)
#undef DML_INSTANTIATE

}  // namespace dml::cuda
