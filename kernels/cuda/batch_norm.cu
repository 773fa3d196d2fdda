#include "kernels/batch_norm_math.h"
#include "kernels/cuda/batch_norm.h"
#include "kernels/cuda/grid.cuh"
#include "kernels/cuda_runtime/check.h"
#include "kernels/cuda_runtime/scratch.h"
#include "kernels/cuda_runtime/stream.h"

namespace dml::cuda {

namespace {

using kernels::BatchNormGrad;
using kernels::load;
using kernels::math_t;
using kernels::store;

// Threads of a summing block: a power of two, for the tree.
constexpr int kSumThreads = 256;
// A channel's n * hw elements are split into chunks of at least this many
// (so a block's loop outweighs its reduction), at most kMaxChunks of them.
constexpr int64_t kMinChunk = 16 * kSumThreads;
constexpr int64_t kMaxChunks = 64;

int64_t chunks_for(int64_t count) {
  const int64_t chunks = (count + kMinChunk - 1) / kMinChunk;
  return chunks < 1 ? 1 : chunks > kMaxChunks ? kMaxChunks : chunks;
}

enum class Sums {
  x,              // sum of x
  square_dev,     // sum of (x - mean)^2, mean in double
  backward,       // sum of dy and of dy * (x - mean), mean in T (as the CPU)
  backward_relu,  // the same with dy masked by the fused op's ReLU output
};

// Adds element `at` of channel ch to the two running sums of kKind.
template <class S, Sums kKind, class T = math_t<S>>
__device__ void add_element(const S* x, const S* dy, const S* relu_y, int64_t at, int64_t ch,
                            const double* mean_d, const T* mean_t, double& a, double& b) {
  if constexpr (kKind == Sums::x) {
    a += load(x[at]);
  } else if constexpr (kKind == Sums::square_dev) {
    const double d = load(x[at]) - mean_d[ch];
    a += d * d;
  } else {
    const T g = kernels::batch_norm_upstream<kKind == Sums::backward_relu>(dy, relu_y, at);
    a += g;
    b += double(g) * (load(x[at]) - mean_t[ch]);
  }
}

// Block (ch, chunk) sums the chunk's elements of channel ch and writes its
// two partial sums to parts[(ch * chunks + chunk) * 2 + {0, 1}]. Element i
// of a channel (i < count = n * hw) is image i / hw, position i % hw.
template <class S, Sums kKind, class T = math_t<S>>
__global__ void partial_sums_kernel(const S* x, const S* dy, const S* relu_y, int64_t c, int64_t hw,
                                    int64_t count, int64_t chunks, const double* mean_d,
                                    const T* mean_t, double* parts) {
  const int64_t ch = blockIdx.x, chunk = blockIdx.y;
  const int64_t per = (count + chunks - 1) / chunks, begin = chunk * per;
  const int64_t end = begin + per < count ? begin + per : count;
  double a = 0, b = 0;
  for (int64_t i = begin + threadIdx.x; i < end; i += kSumThreads)
    add_element<S, kKind>(x, dy, relu_y, ((i / hw) * c + ch) * hw + i % hw, ch, mean_d, mean_t, a,
                          b);
  double sums[2] = {a, b};
  grid::block_sum<kSumThreads>(sums);
  if (threadIdx.x == 0) {
    parts[(ch * chunks + chunk) * 2] = sums[0];
    parts[(ch * chunks + chunk) * 2 + 1] = sums[1];
  }
}

// The same partial sums for hw = 1 (channels-last activations seen as
// [rows, c, 1, 1]): channel ch's elements lie c apart, so a block takes 32
// neighbouring channels (threadIdx.x, reading consecutive addresses) over
// kRowLanes lanes of rows (threadIdx.y), and adds the lanes in a fixed tree.
constexpr int kRowLanes = kSumThreads / 32;
template <class S, Sums kKind, class T = math_t<S>>
__global__ void row_partial_sums_kernel(const S* x, const S* dy, const S* relu_y, int64_t c,
                                        int64_t rows, int64_t chunks, const double* mean_d,
                                        const T* mean_t, double* parts) {
  __shared__ double sum_a[kRowLanes][32], sum_b[kRowLanes][32];
  const int64_t ch = blockIdx.x * 32 + threadIdx.x, chunk = blockIdx.y;
  const int64_t per = (rows + chunks - 1) / chunks, begin = chunk * per;
  const int64_t end = begin + per < rows ? begin + per : rows;
  double a = 0, b = 0;
  if (ch < c)
    for (int64_t r = begin + threadIdx.y; r < end; r += kRowLanes)
      add_element<S, kKind>(x, dy, relu_y, r * c + ch, ch, mean_d, mean_t, a, b);
  const int lane = threadIdx.y, col = threadIdx.x;
  sum_a[lane][col] = a;
  sum_b[lane][col] = b;
  __syncthreads();
  for (int half = kRowLanes / 2; half > 0; half /= 2) {
    if (lane < half) {
      sum_a[lane][col] += sum_a[lane + half][col];
      sum_b[lane][col] += sum_b[lane + half][col];
    }
    __syncthreads();
  }
  if (lane == 0 && ch < c) {
    parts[(ch * chunks + chunk) * 2] = sum_a[0][col];
    parts[(ch * chunks + chunk) * 2 + 1] = sum_b[0][col];
  }
}

// Queues the partial sums of every channel: parts holds c * chunks * 2 doubles.
template <class S, Sums kKind>
void partial_sums(const S* x, const S* dy, const S* relu_y, int64_t n, int64_t c, int64_t hw,
                  int64_t chunks, const double* mean_d, const math_t<S>* mean_t, double* parts,
                  cudaStream_t s) {
  DML_CHECK(c <= INT32_MAX, "cuda::batch_norm: ", c, " channels exceed the grid limit");
  if (hw == 1) {
    const dim3 grid{unsigned((c + 31) / 32), unsigned(chunks)}, block{32, kRowLanes};
    row_partial_sums_kernel<S, kKind>
        <<<grid, block, 0, s>>>(x, dy, relu_y, c, n, chunks, mean_d, mean_t, parts);
  } else {
    const dim3 grid{unsigned(c), unsigned(chunks)};
    partial_sums_kernel<S, kKind>
        <<<grid, kSumThreads, 0, s>>>(x, dy, relu_y, c, hw, n * hw, chunks, mean_d, mean_t, parts);
  }
  DML_CUDA_CHECK(cudaGetLastError());
}

// Channel ch's total of partial sum k: its chunks added in order.
__device__ double channel_total(const double* parts, int64_t ch, int64_t chunks, int k) {
  double s = 0;
  for (int64_t j = 0; j < chunks; ++j) s += parts[(ch * chunks + j) * 2 + k];
  return s;
}

__global__ void mean_kernel(const double* parts, int64_t c, int64_t chunks, double count,
                            double* mean_d) {
  DML_GRID_STRIDE_LOOP(ch, c) {
    mean_d[ch] = channel_total(parts, ch, chunks, 0) / count;
  }
}

template <class T>
__global__ void var_kernel(const double* parts, int64_t c, int64_t chunks, double count,
                           const double* mean_d, T* mean, T* var) {
  DML_GRID_STRIDE_LOOP(ch, c) {
    mean[ch] = T(mean_d[ch]);
    var[ch] = T(channel_total(parts, ch, chunks, 0) / count);
  }
}

template <class T>
__global__ void update_running_kernel(const T* mean, const T* var, int64_t c, int64_t count,
                                      double momentum, double eps, T* running_mean, T* running_var,
                                      T* invstd) {
  DML_GRID_STRIDE_LOOP(ch, c) {
    kernels::batch_norm_running_update(mean[ch], var[ch], count, momentum, &running_mean[ch],
                                       &running_var[ch]);
    invstd[ch] = kernels::batch_norm_invstd(var[ch], eps);
  }
}

template <class T>
__global__ void running_stats_kernel(const T* running_mean, const T* running_var, int64_t c,
                                     double eps, T* mean, T* invstd) {
  DML_GRID_STRIDE_LOOP(ch, c) {
    mean[ch] = running_mean[ch];
    invstd[ch] = kernels::batch_norm_invstd(running_var[ch], eps);
  }
}

template <class S, bool kResidual, bool kRelu, class T = math_t<S>>
__global__ void apply_kernel(const S* x, const S* residual, int64_t total, int64_t c, int64_t hw,
                             const T* mean, const T* invstd, const T* gamma, const T* beta, S* y) {
  DML_GRID_STRIDE_LOOP(e, total) {
    const kernels::BatchNormAffine<T> a =
        kernels::batch_norm_affine((e / hw) % c, mean, invstd, gamma, beta);
    y[e] = store<S>(kernels::batch_norm_output<kResidual, kRelu>(
        load(x[e]), a, kResidual ? load(residual[e]) : T(0)));
  }
}

// Per channel: the parameters' gradients and dx's coefficients.
template <class T>
__global__ void grad_coefficients_kernel(const double* parts, int64_t c, int64_t chunks,
                                         double count, const T* invstd, const T* gamma,
                                         bool training, T* dgamma, T* dbeta,
                                         BatchNormGrad<T>* coef) {
  DML_GRID_STRIDE_LOOP(ch, c) {
    const BatchNormGrad<T> g = kernels::batch_norm_grad(channel_total(parts, ch, chunks, 0),
                                                        channel_total(parts, ch, chunks, 1), count,
                                                        invstd[ch], gamma, ch, training);
    if (dgamma) dgamma[ch] = g.dgamma;
    if (dbeta) dbeta[ch] = g.dbeta;
    coef[ch] = g;
  }
}

template <class S, bool kMasked, class T = math_t<S>>
__global__ void dx_kernel(const S* dy, const S* relu_y, const S* x, int64_t total, int64_t c,
                          int64_t hw, const T* mean, const T* invstd, const BatchNormGrad<T>* coef,
                          S* dx) {
  DML_GRID_STRIDE_LOOP(e, total) {
    const int64_t ch = (e / hw) % c;
    dx[e] = store<S>(kernels::batch_norm_dx(kernels::batch_norm_upstream<kMasked>(dy, relu_y, e),
                                            load(x[e]), mean[ch], invstd[ch], coef[ch]));
  }
}

template <class S>
__global__ void relu_mask_kernel(const S* dy, const S* relu_y, S* out, int64_t n) {
  DML_GRID_STRIDE_LOOP(i, n) {
    out[i] = store<S>(kernels::batch_norm_upstream<true>(dy, relu_y, i));
  }
}

}  // namespace

template <class S>
void batch_norm_stats(const S* x, int64_t n, int64_t c, int64_t hw, math_t<S>* mean, math_t<S>* var,
                      int device) {
  using T = math_t<S>;
  if (c == 0) return;
  const int64_t count = n * hw, chunks = chunks_for(count);
  // Two passes, as the CPU: the mean in double, then the squared deviations from it.
  Scratch parts(sizeof(double) * size_t(c * chunks * 2), device),
      mean_d(sizeof(double) * size_t(c), device);
  cudaStream_t s = use_device(device);
  partial_sums<S, Sums::x>(x, nullptr, nullptr, n, c, hw, chunks, nullptr, nullptr,
                           parts.as<double>(), s);
  mean_kernel<<<grid::blocks_for(c), grid::kThreads, 0, s>>>(parts.as<double>(), c, chunks,
                                                             double(count), mean_d.as<double>());
  DML_CUDA_CHECK(cudaGetLastError());
  partial_sums<S, Sums::square_dev>(x, nullptr, nullptr, n, c, hw, chunks, mean_d.as<double>(),
                                    nullptr, parts.as<double>(), s);
  var_kernel<T><<<grid::blocks_for(c), grid::kThreads, 0, s>>>(
      parts.as<double>(), c, chunks, double(count), mean_d.as<double>(), mean, var);
  DML_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void batch_norm_update_running(const T* mean, const T* var, int64_t c, int64_t count,
                               double momentum, double eps, T* running_mean, T* running_var,
                               T* invstd, int device) {
  if (c == 0) return;
  cudaStream_t s = use_device(device);
  update_running_kernel<T><<<grid::blocks_for(c), grid::kThreads, 0, s>>>(
      mean, var, c, count, momentum, eps, running_mean, running_var, invstd);
  DML_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void batch_norm_running_stats(const T* running_mean, const T* running_var, int64_t c, double eps,
                              T* mean, T* invstd, int device) {
  if (c == 0) return;
  cudaStream_t s = use_device(device);
  running_stats_kernel<T><<<grid::blocks_for(c), grid::kThreads, 0, s>>>(running_mean, running_var,
                                                                         c, eps, mean, invstd);
  DML_CUDA_CHECK(cudaGetLastError());
}

template <class S, class T>
void batch_norm_apply(const S* x, int64_t n, int64_t c, int64_t hw, const T* mean, const T* invstd,
                      const T* gamma, const T* beta, const S* residual, bool relu, S* y,
                      int device) {
  const int64_t total = n * c * hw;
  kernels::with_flags(residual != nullptr, relu, [&](auto has_residual, auto has_relu) {
    grid::launch(apply_kernel<S, decltype(has_residual)::value, decltype(has_relu)::value>, total,
                 device, x, residual, total, c, hw, mean, invstd, gamma, beta, y);
  });
}

template <class S, class T>
void batch_norm_backward(const S* dy, const S* relu_y, const S* x, int64_t n, int64_t c, int64_t hw,
                         const T* mean, const T* invstd, const T* gamma, bool training, S* dx,
                         T* dgamma, T* dbeta, int device) {
  if (c == 0) return;
  const int64_t count = n * hw, chunks = chunks_for(count);
  Scratch parts(sizeof(double) * size_t(c * chunks * 2), device),
      coef(sizeof(BatchNormGrad<T>) * size_t(c), device);
  cudaStream_t s = use_device(device);
  if (relu_y)
    partial_sums<S, Sums::backward_relu>(x, dy, relu_y, n, c, hw, chunks, nullptr, mean,
                                         parts.as<double>(), s);
  else
    partial_sums<S, Sums::backward>(x, dy, nullptr, n, c, hw, chunks, nullptr, mean,
                                    parts.as<double>(), s);
  grad_coefficients_kernel<T><<<grid::blocks_for(c), grid::kThreads, 0, s>>>(
      parts.as<double>(), c, chunks, double(count), invstd, gamma, training, dgamma, dbeta,
      coef.as<BatchNormGrad<T>>());
  DML_CUDA_CHECK(cudaGetLastError());
  const int64_t total = count * c;
  if (!dx) return;
  const BatchNormGrad<T>* coefficients = coef.as<BatchNormGrad<T>>();
  kernels::with_flag(relu_y != nullptr, [&](auto masked) {
    grid::launch(dx_kernel<S, decltype(masked)::value>, total, device, dy, relu_y, x, total, c, hw,
                 mean, invstd, coefficients, dx);
  });
}

template <class S>
void batch_norm_relu_mask(const S* dy, const S* relu_y, S* out, int64_t n, int device) {
  grid::launch(relu_mask_kernel<S>, n, device, dy, relu_y, out, n);
}

// The per-channel kernels exist for the math types, the activation kernels
// for every storage type.
#define DML_INSTANTIATE_MATH(T)                                                                    \
  template void batch_norm_update_running<T>(const T*, const T*, int64_t, int64_t, double, double, \
                                             T*, T*, T*, int);                                     \
  template void batch_norm_running_stats<T>(const T*, const T*, int64_t, double, T*, T*, int);
#define DML_INSTANTIATE_STORAGE(S, T)                                                              \
  template void batch_norm_stats<S>(const S*, int64_t, int64_t, int64_t, T*, T*, int);             \
  template void batch_norm_apply<S, T>(const S*, int64_t, int64_t, int64_t, const T*, const T*,    \
                                       const T*, const T*, const S*, bool, S*, int);               \
  template void batch_norm_backward<S, T>(const S*, const S*, const S*, int64_t, int64_t, int64_t, \
                                          const T*, const T*, const T*, bool, S*, T*, T*, int);    \
  template void batch_norm_relu_mask<S>(const S*, const S*, S*, int64_t, int);
DML_INSTANTIATE_MATH(float)
DML_INSTANTIATE_MATH(double)
DML_FOR_EACH_BATCH_NORM_STORAGE(DML_INSTANTIATE_STORAGE)
#undef DML_INSTANTIATE_MATH
#undef DML_INSTANTIATE_STORAGE

}  // namespace dml::cuda
