#include "dml/losses/fused_margin.h"

#include "dml/losses/loss_terms.h"
#include "engine/autograd.h"
#include "engine/cuda_graph.h"
#include "engine/kernel_dispatch.h"
#include "engine/ops/common.h"
#include "kernels/cpu/distance_weighted_margin.h"
#ifdef DML_WITH_CUDA
#include "kernels/cuda/distance_weighted_margin.h"
#endif

namespace dml::losses {

namespace {

constexpr const char* kOp = "distance_weighted_margin_loss";

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
    using ops::kernel_data;
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

}  // namespace

Tensor distance_weighted_margin_loss(const Tensor& embeddings, const Tensor& labels,
                                     const Tensor& beta, kernels::DistanceWeightedMargin config,
                                     Generator& gen) {
  miners::check_batch(embeddings, labels, kOp);
  const Device dev = ops::check_same_device(kOp, {&embeddings, &beta});
  ops::check_same_dtype(kOp, embeddings, beta);
  ops::check_dim(kOp, "beta", beta, 1);
  const int64_t rows = beta.size(0);
  DML_CHECK(config.per_class_beta || rows == 1, kOp, ": one shared beta has shape [1], got ",
            describe(beta));
  // Captured in a CUDA graph, the labels are a device tensor refilled before
  // each replay, unread here: their values are the caller's to check.
  if (config.per_class_beta && !graph_capturing(dev))
    check_class_labels(labels.to_vector<int64_t>(), rows, kOp);
  config.batch = embeddings.size(0);
  config.dim = embeddings.size(1);
  config.seed = gen.seed();
  config.first = gen.reserve(uint64_t(config.batch * config.batch));
  config.first_base = captured_draw_base(dev, gen);

  const Tensor on_device = labels.device() == dev ? labels : labels.to(dev);
  const Tensor e = embeddings.detach(), b = beta.detach();
  auto work = std::make_shared<Work>(config.batch, config.dim, dev);
  Tensor loss = Tensor::empty({}, embeddings.dtype(), dev);
  ops::dispatch_float(kOp, embeddings.dtype(), [&](auto t) {
    using T = decltype(t);
    DML_KERNEL(dev, distance_weighted_margin_forward, ops::kernel_data<T>(e),
               ops::kernel_data<int64_t>(on_device), ops::kernel_data<T>(b), config,
               work->pointers({}, {}), ops::kernel_data<T>(loss));
  });
  record(kOp, {embeddings, beta}, loss, [=](const Tensor& g) {
    Tensor grad_e = Tensor::empty(e.shape(), e.dtype(), dev);
    Tensor grad_beta = Tensor::empty(b.shape(), b.dtype(), dev);
    const Tensor dist_grad = Tensor::empty({config.batch, config.batch}, DType::f64, dev);
    const Tensor x_grad = Tensor::empty({config.batch, config.dim}, DType::f64, dev);
    ops::dispatch_float(kOp, e.dtype(), [&](auto t) {
      using T = decltype(t);
      DML_KERNEL(dev, distance_weighted_margin_backward, ops::kernel_data<T>(g),
                 ops::kernel_data<int64_t>(on_device), ops::kernel_data<T>(b), rows, config,
                 work->pointers(dist_grad, x_grad), ops::kernel_data<T>(grad_e),
                 ops::kernel_data<T>(grad_beta));
    });
    return std::vector<Tensor>{grad_e, grad_beta};
  });
  return loss;
}

}  // namespace dml::losses
