#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/index.h"

namespace dml::cuda {

namespace {

// One thread per output element e = (o * k + j) * inner + i.
template <class T>
__global__ void index_select_kernel(const T* x, const int64_t* index, T* out, int64_t total,
                                    int64_t n, int64_t k, int64_t inner) {
  DML_GRID_STRIDE_LOOP(e, total) {
    const int64_t i = e % inner, oj = e / inner, j = oj % k, o = oj / k;
    out[e] = x[(o * n + index[j]) * inner + i];
  }
}

// One thread per source element; atomics because repeated indices collide.
template <class T>
__global__ void index_add_kernel(T* x, const int64_t* index, const T* src, int64_t total, int64_t n,
                                 int64_t k, int64_t inner) {
  DML_GRID_STRIDE_LOOP(e, total) {
    const int64_t i = e % inner, oj = e / inner, j = oj % k, o = oj / k;
    atomicAdd(x + (o * n + index[j]) * inner + i, src[e]);
  }
}

template <class T>
__global__ void gather_kernel(const T* x, const int64_t* index, T* out, int64_t total, int64_t n,
                              int64_t k, int64_t inner) {
  DML_GRID_STRIDE_LOOP(e, total) {
    const int64_t i = e % inner, o = e / (k * inner);
    out[e] = x[(o * n + index[e]) * inner + i];
  }
}

template <class T>
__global__ void scatter_add_kernel(T* x, const int64_t* index, const T* src, int64_t total,
                                   int64_t n, int64_t k, int64_t inner) {
  DML_GRID_STRIDE_LOOP(e, total) {
    const int64_t i = e % inner, o = e / (k * inner);
    atomicAdd(x + (o * n + index[e]) * inner + i, src[e]);
  }
}

template <class T>
__global__ void one_hot_kernel(const int64_t* labels, T* out, int64_t rows, int64_t classes) {
  DML_GRID_STRIDE_LOOP(r, rows) out[r * classes + labels[r]] = T(1);
}

// The smallest bad position wins the atomicMin: the CPU's first one.
__global__ void out_of_range_kernel(const int64_t* index, int64_t count, int64_t n,
                                    unsigned long long* first_bad) {
  DML_GRID_STRIDE_LOOP(e, count)
  if (index[e] < 0 || index[e] >= n) atomicMin(first_bad, static_cast<unsigned long long>(e));
}

}  // namespace

template <class T>
void index_select(const T* x, const int64_t* index, T* out, int64_t outer, int64_t n, int64_t k,
                  int64_t inner, int device) {
  grid::launch(index_select_kernel<T>, outer * k * inner, device, x, index, out, outer * k * inner,
               n, k, inner);
}
template <class T>
void index_add(T* x, const int64_t* index, const T* src, int64_t outer, int64_t n, int64_t k,
               int64_t inner, int device) {
  grid::launch(index_add_kernel<T>, outer * k * inner, device, x, index, src, outer * k * inner, n,
               k, inner);
}
template <class T>
void gather(const T* x, const int64_t* index, T* out, int64_t outer, int64_t n, int64_t k,
            int64_t inner, int device) {
  grid::launch(gather_kernel<T>, outer * k * inner, device, x, index, out, outer * k * inner, n, k,
               inner);
}
template <class T>
void scatter_add(T* x, const int64_t* index, const T* src, int64_t outer, int64_t n, int64_t k,
                 int64_t inner, int device) {
  grid::launch(scatter_add_kernel<T>, outer * k * inner, device, x, index, src, outer * k * inner,
               n, k, inner);
}
template <class T>
void one_hot(const int64_t* labels, T* out, int64_t rows, int64_t classes, int device) {
  grid::launch(one_hot_kernel<T>, rows, device, labels, out, rows, classes);
}

void queue_find_out_of_range(const int64_t* index, int64_t count, int64_t n,
                             unsigned long long* first_bad, int device) {
  // All ones: no bad position yet (the maximum, which any position beats).
  DML_CUDA_CHECK(cudaMemsetAsync(first_bad, 0xFF, sizeof *first_bad, use_device(device)));
  grid::launch(out_of_range_kernel, count, device, index, count, n, first_bad);
}

#define DML_INSTANTIATE_FLOAT(T)                                                                  \
  template void index_add<T>(T*, const int64_t*, const T*, int64_t, int64_t, int64_t, int64_t,    \
                             int);                                                                \
  template void gather<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t, int); \
  template void scatter_add<T>(T*, const int64_t*, const T*, int64_t, int64_t, int64_t, int64_t,  \
                               int);                                                              \
  template void one_hot<T>(const int64_t*, T*, int64_t, int64_t, int);
DML_INSTANTIATE_FLOAT(float)
DML_INSTANTIATE_FLOAT(double)
#undef DML_INSTANTIATE_FLOAT
template void index_select<float>(const float*, const int64_t*, float*, int64_t, int64_t, int64_t,
                                  int64_t, int);
template void index_select<double>(const double*, const int64_t*, double*, int64_t, int64_t,
                                   int64_t, int64_t, int);
template void index_select<int64_t>(const int64_t*, const int64_t*, int64_t*, int64_t, int64_t,
                                    int64_t, int64_t, int);

}  // namespace dml::cuda
