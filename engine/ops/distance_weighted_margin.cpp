// The fused margin loss and the draws alone (engine/distance_weighted_margin.h):
// argument checks, the f64 work buffers, the kernels on the embeddings'
// device and the loss's autograd node.
#include "engine/distance_weighted_margin.h"

#include <memory>

#include "engine/cuda_graph.h"
#include "engine/kernel_dispatch.h"
#include "engine/ops/common.h"
#include "kernels/cpu/distance_weighted_margin.h"
#ifdef DML_WITH_CUDA
#include "kernels/cuda/distance_weighted_margin.h"
#endif

namespace dml {

using namespace ops;

namespace {

// One i64 label per row of the batch.
void check_labels(const char* op, const Tensor& labels, int64_t batch) {
  check_dtype(op, "labels", labels, DType::i64);
  check_dim(op, "labels", labels, 1);
  DML_CHECK(labels.size(0) == batch, op, ": ", batch, " rows need ", batch, " labels, got ",
            describe(labels));
}

// The f64 buffers of one batch, kept by the backward.
struct Work {
  Tensor x, norms, dist, log_weights, negatives, sums;

  Work(int64_t b, int64_t d, Device dev)
      : x(Tensor::empty({b, d}, DType::f64, dev)),
        norms(Tensor::empty({b}, DType::f64, dev)),
        dist(Tensor::empty({b, b}, DType::f64, dev)),
        log_weights(Tensor::empty({b, b}, DType::f64, dev)),
        negatives(Tensor::empty({b, b}, DType::i64, dev)),
        sums(Tensor::empty({4}, DType::f64, dev)) {}

  // dist_grad and x_grad: scratch of one backward.
  kernels::DistanceWeightedMarginWork pointers(const Tensor& dist_grad,
                                               const Tensor& x_grad) const {
    return {kernel_data<double>(x),
            kernel_data<double>(norms),
            kernel_data<double>(dist),
            kernel_data<double>(log_weights),
            kernel_data<int64_t>(negatives),
            kernel_data<double>(sums),
            dist_grad.defined() ? kernel_data<double>(dist_grad) : nullptr,
            x_grad.defined() ? kernel_data<double>(x_grad) : nullptr};
  }
};

// The kernels' parameter block for a batch of B rows of dimension D: the
// caller's options, the sizes and the B * B counters the draws take from gen.
kernels::DistanceWeightedMargin kernel_config(const DistanceWeightedMarginOptions& o, int64_t batch,
                                              int64_t dim, Generator& gen) {
  kernels::DistanceWeightedMargin c;
  c.batch = batch;
  c.dim = dim;
  c.margin = o.margin;
  c.nu = o.nu;
  c.cutoff = o.cutoff;
  c.nonzero_loss_cutoff = o.nonzero_loss_cutoff;
  c.per_class_beta = o.per_class_beta;
  c.seed = gen.seed();
  c.first = gen.reserve(uint64_t(batch * batch));
  return c;
}

}  // namespace

Tensor fused_distance_weighted_margin_loss(const Tensor& embeddings, const Tensor& labels,
                                           const Tensor& beta,
                                           const DistanceWeightedMarginOptions& options,
                                           Generator& gen) {
  const char* op = "fused_distance_weighted_margin_loss";
  const Device dev = check_same_device(op, {&embeddings, &beta});
  check_dim(op, "embeddings", embeddings, 2);
  check_labels(op, labels, embeddings.size(0));
  check_same_dtype(op, embeddings, beta);
  check_dim(op, "beta", beta, 1);
  const int64_t rows = beta.size(0);
  DML_CHECK(options.per_class_beta || rows == 1, op, ": one shared beta has shape [1], got ",
            describe(beta));
  kernels::DistanceWeightedMargin config =
      kernel_config(options, embeddings.size(0), embeddings.size(1), gen);
  config.first_base = captured_draw_base(dev, gen);

  const Tensor on_device = labels.device() == dev ? labels : labels.to(dev);
  const Tensor e = embeddings.detach(), b = beta.detach();
  auto work = std::make_shared<Work>(config.batch, config.dim, dev);
  Tensor loss = Tensor::empty({}, embeddings.dtype(), dev);
  dispatch_float(op, embeddings.dtype(), [&](auto t) {
    using T = decltype(t);
    DML_KERNEL(dev, distance_weighted_margin_forward, kernel_data<T>(e),
               kernel_data<int64_t>(on_device), kernel_data<T>(b), config, work->pointers({}, {}),
               kernel_data<T>(loss));
  });
  record(op, {embeddings, beta}, loss, [=](const Tensor& g) {
    Tensor grad_e = Tensor::empty(e.shape(), e.dtype(), dev);
    Tensor grad_beta = Tensor::empty(b.shape(), b.dtype(), dev);
    const Tensor dist_grad = Tensor::empty({config.batch, config.batch}, DType::f64, dev);
    const Tensor x_grad = Tensor::empty({config.batch, config.dim}, DType::f64, dev);
    dispatch_float(op, e.dtype(), [&](auto t) {
      using T = decltype(t);
      DML_KERNEL(dev, distance_weighted_margin_backward, kernel_data<T>(g),
                 kernel_data<int64_t>(on_device), kernel_data<T>(b), rows, config,
                 work->pointers(dist_grad, x_grad), kernel_data<T>(grad_e),
                 kernel_data<T>(grad_beta));
    });
    return std::vector<Tensor>{grad_e, grad_beta};
  });
  return loss;
}

Tensor distance_weighted_negatives(const Tensor& distances, const Tensor& labels, int64_t dim,
                                   const DistanceWeightedMarginOptions& options, Generator& gen) {
  const char* op = "distance_weighted_negatives";
  check_dtype(op, "distances", distances, DType::f64);
  check_dim(op, "distances", distances, 2);
  const int64_t b = distances.size(0);
  DML_CHECK(distances.size(1) == b, op, ": distances must be square [B, B], got ",
            describe(distances));
  check_labels(op, labels, b);
  DML_CHECK(distances.device().is_cpu() && labels.device().is_cpu(), op,
            ": the draws run on the CPU, got distances ", describe(distances), " and labels ",
            describe(labels));
  const kernels::DistanceWeightedMargin config = kernel_config(options, b, dim, gen);
  Tensor log_weights = Tensor::empty({b, b}, DType::f64);
  Tensor negatives = Tensor::empty({b, b}, DType::i64);
  cpu::distance_weighted_negatives(config, distances.data<double>(), labels.data<int64_t>(),
                                   log_weights.data<double>(), negatives.data<int64_t>());
  return negatives;
}

}  // namespace dml
