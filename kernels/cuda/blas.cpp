#include "kernels/cuda/blas.h"

#include <atomic>
#include <type_traits>

#include "kernels/cuda_runtime/check.h"
#include "kernels/cuda_runtime/device_handle.h"

namespace dml::cuda {

namespace {

std::atomic<bool> g_allow_tf32{false};

void bind_cublas(cublasHandle_t* h, cudaStream_t s) {
  DML_CUBLAS_CHECK(cublasCreate(h));
  DML_CUBLAS_CHECK(cublasSetStream(*h, s));
}

// The math mode for T: TF32 for f32 where allowed (the switch concerns f32
// only); for bf16, tensor cores (the default for 16-bit inputs) with every
// reduction kept in the f32 compute type: without the flag cuBLAS may sum
// split-K partial products in bf16, which is not "accumulate in f32".
template <class T>
cublasMath_t math_mode() {
  if constexpr (std::is_same_v<T, bf16>)
    return cublasMath_t(CUBLAS_DEFAULT_MATH | CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION);
  else
    return std::is_same_v<T, float> && g_allow_tf32.load() ? CUBLAS_TF32_TENSOR_OP_MATH
                                                           : CUBLAS_DEFAULT_MATH;
}

// Runs call(handle) with the device current, its handle locked and the math
// mode for T set.
template <class T, class Call>
void with_handle(int device, Call&& call) {
  DeviceHandle<cublasHandle_t>& blas = device_handle(device, bind_cublas);
  std::lock_guard<std::mutex> lock(blas.mu);
  DML_CUDA_CHECK(cudaSetDevice(device));
  DML_CUBLAS_CHECK(cublasSetMathMode(blas.handle, math_mode<T>()));
  call(blas.handle);
}

cublasOperation_t op(bool transposed) {
  return transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
}

// With k = 0 there is nothing to multiply and C = beta * C. cuBLAS does not
// document that case (PyTorch does not call it either), so it is done here for
// the two values products use: beta = 0 writes zeros (BLAS's rule: C is not
// read, even where it holds NaN), beta = 1 leaves C as it is. C is `rows`
// runs of `width` elements, `pitch` elements apart.
// (All-zero bits are 0 in every element type, bf16 too.)
template <class T>
void scale_by_beta(gemm_scalar_t<T> beta, T* c, int64_t rows, int64_t width, int64_t pitch,
                   int device) {
  DML_CHECK(beta == 0 || beta == 1, "cuda::gemm: k = 0 with beta = ", beta,
            " is not supported (beta must be 0 or 1)");
  if (beta == 1 || rows == 0 || width == 0) return;
  DML_CUDA_CHECK(cudaMemset2DAsync(c, size_t(pitch) * sizeof(T), 0, size_t(width) * sizeof(T),
                                   size_t(rows), use_device(device)));
}

}  // namespace

void set_allow_tf32(bool on) {
  g_allow_tf32 = on;
}
bool allow_tf32() {
  return g_allow_tf32;
}

// Row-major C (m x n) is column-major C^T (n x m) = op(B)^T op(A)^T, and a
// row-major buffer read column-major is its own transpose: cuBLAS gets the
// operands swapped, each with its own flag and leading dimension.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, gemm_scalar_t<T> alpha,
          const T* a, int64_t lda, const T* b, int64_t ldb, gemm_scalar_t<T> beta, T* c,
          int64_t ldc, int device) {
  if (m == 0 || n == 0) return;
  if (k == 0) return scale_by_beta<T>(beta, c, m, n, ldc, device);
  with_handle<T>(device, [&](cublasHandle_t h) {
    if constexpr (std::is_same_v<T, bf16>)
      DML_CUBLAS_CHECK(cublasGemmEx_64(h, op(trans_b), op(trans_a), n, m, k, &alpha, b, CUDA_R_16BF,
                                       ldb, a, CUDA_R_16BF, lda, &beta, c, CUDA_R_16BF, ldc,
                                       CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    else if constexpr (std::is_same_v<T, float>)
      DML_CUBLAS_CHECK(cublasSgemm_64(h, op(trans_b), op(trans_a), n, m, k, &alpha, b, ldb, a, lda,
                                      &beta, c, ldc));
    else
      DML_CUBLAS_CHECK(cublasDgemm_64(h, op(trans_b), op(trans_a), n, m, k, &alpha, b, ldb, a, lda,
                                      &beta, c, ldc));
  });
}

template <class T>
void gemm_batched(int64_t batch, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                  gemm_scalar_t<T> alpha, const T* a, int64_t stride_a, const T* b,
                  int64_t stride_b, gemm_scalar_t<T> beta, T* c, int64_t stride_c, int device) {
  if (batch == 0 || m == 0 || n == 0) return;
  if (k == 0) return scale_by_beta<T>(beta, c, batch, m * n, batch == 1 ? m * n : stride_c, device);
  const int64_t lda = trans_a ? m : k, ldb = trans_b ? k : n;
  with_handle<T>(device, [&](cublasHandle_t h) {
    if constexpr (std::is_same_v<T, bf16>)
      DML_CUBLAS_CHECK(cublasGemmStridedBatchedEx_64(
          h, op(trans_b), op(trans_a), n, m, k, &alpha, b, CUDA_R_16BF, ldb, stride_b, a,
          CUDA_R_16BF, lda, stride_a, &beta, c, CUDA_R_16BF, n, stride_c, batch, CUBLAS_COMPUTE_32F,
          CUBLAS_GEMM_DEFAULT));
    else if constexpr (std::is_same_v<T, float>)
      DML_CUBLAS_CHECK(cublasSgemmStridedBatched_64(h, op(trans_b), op(trans_a), n, m, k, &alpha, b,
                                                    ldb, stride_b, a, lda, stride_a, &beta, c, n,
                                                    stride_c, batch));
    else
      DML_CUBLAS_CHECK(cublasDgemmStridedBatched_64(h, op(trans_b), op(trans_a), n, m, k, &alpha, b,
                                                    ldb, stride_b, a, lda, stride_a, &beta, c, n,
                                                    stride_c, batch));
  });
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t, int);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                           const double*, int64_t, double, double*, int64_t, int);
template void gemm_batched<float>(int64_t, bool, bool, int64_t, int64_t, int64_t, float,
                                  const float*, int64_t, const float*, int64_t, float, float*,
                                  int64_t, int);
template void gemm_batched<double>(int64_t, bool, bool, int64_t, int64_t, int64_t, double,
                                   const double*, int64_t, const double*, int64_t, double, double*,
                                   int64_t, int);
template void gemm<bf16>(bool, bool, int64_t, int64_t, int64_t, float, const bf16*, int64_t,
                         const bf16*, int64_t, float, bf16*, int64_t, int);
template void gemm_batched<bf16>(int64_t, bool, bool, int64_t, int64_t, int64_t, float, const bf16*,
                                 int64_t, const bf16*, int64_t, float, bf16*, int64_t, int);

}  // namespace dml::cuda
