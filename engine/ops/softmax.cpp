#include "kernels/cpu/softmax.h"

#include "engine/kernel_dispatch.h"
#include "engine/ops/common.h"

#ifdef DML_WITH_CUDA
#include "kernels/cuda/softmax.h"
#endif

namespace dml {

using namespace ops;
using Grads = std::vector<Tensor>;

namespace {
Tensor softmax_impl(const char* op, const Tensor& x, int64_t dim, bool log) {
  Device dev = check_same_device(op, {&x});
  check_float(op, x);
  int64_t d = normalize_dim(op, dim, x.dim());
  OuterInner v = split_at(x.shape(), d);
  Tensor y = empty_like(x);
  dispatch_float(op, x.dtype(), [&](auto t) {
    using T = decltype(t);
    DML_KERNEL(dev, softmax<T>, kernel_data<T>(x), kernel_data<T>(y), v.outer, v.n, v.inner, log);
  });
  Tensor yd = y.detach();
  record(op, {x}, y, [yd, v, log](const Tensor& g) {
    Tensor dx = empty_like(g);
    dispatch_float("softmax_backward", g.dtype(), [&](auto t) {
      using T = decltype(t);
      DML_KERNEL(g.device(), softmax_backward<T>, kernel_data<T>(g), kernel_data<T>(yd),
                 kernel_data<T>(dx), v.outer, v.n, v.inner, log);
    });
    return Grads{dx};
  });
  return y;
}
}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) {
  return softmax_impl("softmax", x, dim, false);
}
Tensor log_softmax(const Tensor& x, int64_t dim) {
  return softmax_impl("log_softmax", x, dim, true);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, double label_smoothing) {
  const char* op = "cross_entropy";
  check_dim(op, "logits", logits, 2);
  check_dim(op, "targets", targets, 1);
  check_dtype(op, "targets", targets, DType::i64);
  DML_CHECK(targets.shape()[0] == logits.shape()[0], op, ": ", describe(targets), " targets for ",
            describe(logits), " logits");
  DML_CHECK(label_smoothing >= 0 && label_smoothing <= 1, op, ": label_smoothing ", label_smoothing,
            " is outside [0, 1]");
  const int64_t classes = logits.shape()[1];
  // PyTorch's smoothing: target distribution (1 - e) one-hot + e / C uniform.
  Tensor logp = log_softmax(logits, 1);
  Tensor nll = neg(gather(logp, 1, targets.unsqueeze(1)));
  Tensor loss = mul(nll, 1.0 - label_smoothing);
  if (label_smoothing > 0)
    loss = add(loss, mul(neg(sum(logp, {1}, true)), label_smoothing / double(classes)));
  return mean(loss);
}

}  // namespace dml
