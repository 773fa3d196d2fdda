#include "kernels/cuda/distance_weighted_margin.h"
#include "kernels/cuda/grid.cuh"

namespace dml::cuda {

namespace {

using kernels::DistanceWeightedMargin;
using kernels::DistanceWeightedMarginWork;

constexpr int kBlock = 256;

// One block per row: its norm, then the normalised row.
template <class T>
__global__ void normalize_rows_kernel(const T* e, DistanceWeightedMarginWork work, int64_t dim) {
  const int64_t i = blockIdx.x;
  double sq[1] = {0};
  for (int64_t k = threadIdx.x; k < dim; k += kBlock)
    sq[0] += double(e[i * dim + k]) * double(e[i * dim + k]);
  grid::block_sum<kBlock>(sq);
  const double norm = sqrt(sq[0]);
  if (threadIdx.x == 0) work.norms[i] = norm;
  const double divisor = norm > kernels::kNormEps ? norm : kernels::kNormEps;
  for (int64_t k = threadIdx.x; k < dim; k += kBlock)
    work.x[i * dim + k] = double(e[i * dim + k]) / divisor;
}

__global__ void distances_kernel(DistanceWeightedMarginWork work, int64_t b, int64_t dim) {
  DML_GRID_STRIDE_LOOP(e, b * b)
  work.dist[e] =
      sqrt(kernels::squared_distance(work.x + (e / b) * dim, work.x + (e % b) * dim, dim));
}

__global__ void log_weights_kernel(DistanceWeightedMargin c, const int64_t* labels,
                                   DistanceWeightedMarginWork work) {
  DML_GRID_STRIDE_LOOP(e, c.batch * c.batch)
  work.log_weights[e] = kernels::slot_log_weight(c, work.dist, labels, e / c.batch, e % c.batch);
}

__global__ void mine_kernel(DistanceWeightedMargin c, const int64_t* labels,
                            DistanceWeightedMarginWork work) {
  if (c.first_base) c.first += *c.first_base;
  DML_GRID_STRIDE_LOOP(e, c.batch * c.batch)
  work.negatives[e] = kernels::mine_slot(c, work.log_weights, labels, e / c.batch, e % c.batch);
}

// One block: the batch's sums and the loss.
template <class T>
__global__ void loss_kernel(DistanceWeightedMargin c, const int64_t* labels, const T* beta,
                            DistanceWeightedMarginWork work, T* loss) {
  double v[4] = {0, 0, 0, 0};
  for (int64_t a = threadIdx.x; a < c.batch; a += kBlock) {
    const kernels::AnchorSums s =
        kernels::anchor_sums(c, work.dist, work.negatives, labels, beta, a);
    v[0] += s.hinges;
    v[1] += s.active;
    v[2] += s.triplets;
    v[3] += s.betas;
  }
  grid::block_sum<kBlock>(v);
  if (threadIdx.x != 0) return;
  for (int n = 0; n < 4; ++n) work.sums[n] = v[n];
  *loss = T(kernels::loss_of(c, {v[0], v[1], v[2], v[3]}));
}

// One thread per anchor: its row of dL/dd.
template <class T>
__global__ void dist_grad_kernel(DistanceWeightedMargin c, const T* grad_loss,
                                 const int64_t* labels, const T* beta,
                                 DistanceWeightedMarginWork work) {
  const kernels::GradScales scales = kernels::grad_scales(c, double(*grad_loss), work.sums);
  DML_GRID_STRIDE_LOOP(a, c.batch)
  kernels::anchor_distance_grads(c, work.dist, work.negatives, labels, beta, a, scales.per_active,
                                 work.dist_grad + a * c.batch);
}

// One block per row: dL/dx (the rows j in index order, as on the CPU), then
// back through the normalisation.
template <class T>
__global__ void row_grad_kernel(DistanceWeightedMargin c, DistanceWeightedMarginWork work,
                                T* grad_embeddings) {
  const int64_t i = blockIdx.x, dim = c.dim;
  double dot[1] = {0};
  for (int64_t k = threadIdx.x; k < dim; k += kBlock) {
    double dx = 0;
    for (int64_t j = 0; j < c.batch; ++j) {
      const double w = kernels::row_grad_weight(c, work.dist, work.dist_grad, i, j);
      if (w != 0) dx += w * (work.x[i * dim + k] - work.x[j * dim + k]);
    }
    work.x_grad[i * dim + k] = dx;
    dot[0] += work.x[i * dim + k] * dx;
  }
  grid::block_sum<kBlock>(dot);
  for (int64_t k = threadIdx.x; k < dim; k += kBlock)
    grad_embeddings[i * dim + k] = T(kernels::normalize_backward(
        work.x_grad[i * dim + k], work.x[i * dim + k], dot[0], work.norms[i]));
}

// One thread per beta row, adding its anchors in index order (as the CPU does).
template <class T>
__global__ void beta_grad_kernel(DistanceWeightedMargin c, const T* grad_loss,
                                 const int64_t* labels, const T* beta, int64_t beta_rows,
                                 DistanceWeightedMarginWork work, T* grad_beta) {
  const kernels::GradScales scales = kernels::grad_scales(c, double(*grad_loss), work.sums);
  DML_GRID_STRIDE_LOOP(r, beta_rows) {
    double g = 0;
    for (int64_t a = 0; a < c.batch; ++a)
      if (kernels::beta_row(c, labels, a) == r)
        g += kernels::anchor_beta_grad(c, work.dist, work.negatives, labels, beta, a, scales);
    grad_beta[r] = T(g);
  }
}

}  // namespace

template <class T>
void distance_weighted_margin_forward(const T* embeddings, const int64_t* labels, const T* beta,
                                      const DistanceWeightedMargin& c,
                                      const DistanceWeightedMarginWork& work, T* loss, int device) {
  cudaStream_t s = use_device(device);
  if (c.batch > 0) {
    normalize_rows_kernel<T><<<unsigned(c.batch), kBlock, 0, s>>>(embeddings, work, c.dim);
    DML_CUDA_CHECK(cudaGetLastError());
  }
  grid::launch(distances_kernel, c.batch * c.batch, device, work, c.batch, c.dim);
  grid::launch(log_weights_kernel, c.batch * c.batch, device, c, labels, work);
  grid::launch(mine_kernel, c.batch * c.batch, device, c, labels, work);
  loss_kernel<T><<<1, kBlock, 0, s>>>(c, labels, beta, work, loss);
  DML_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void distance_weighted_margin_backward(const T* grad_loss, const int64_t* labels, const T* beta,
                                       int64_t beta_rows, const DistanceWeightedMargin& c,
                                       const DistanceWeightedMarginWork& work, T* grad_embeddings,
                                       T* grad_beta, int device) {
  cudaStream_t s = use_device(device);
  grid::launch(dist_grad_kernel<T>, c.batch, device, c, grad_loss, labels, beta, work);
  if (c.batch > 0) {
    row_grad_kernel<T><<<unsigned(c.batch), kBlock, 0, s>>>(c, work, grad_embeddings);
    DML_CUDA_CHECK(cudaGetLastError());
  }
  grid::launch(beta_grad_kernel<T>, beta_rows, device, c, grad_loss, labels, beta, beta_rows, work,
               grad_beta);
}

#define DML_INSTANTIATE(T)                                                                       \
  template void distance_weighted_margin_forward<T>(const T*, const int64_t*, const T*,          \
                                                    const DistanceWeightedMargin&,               \
                                                    const DistanceWeightedMarginWork&, T*, int); \
  template void distance_weighted_margin_backward<T>(                                            \
      const T*, const int64_t*, const T*, int64_t, const DistanceWeightedMargin&,                \
      const DistanceWeightedMarginWork&, T*, T*, int);
DML_INSTANTIATE(float)
DML_INSTANTIATE(double)
#undef DML_INSTANTIATE

}  // namespace dml::cuda
