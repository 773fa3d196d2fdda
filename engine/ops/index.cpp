// Index ops. Every index is bounds-checked here, so kernels can trust it.
#include "kernels/cpu/index.h"

#include "engine/kernel_dispatch.h"
#include "engine/ops/common.h"
#include "kernels/cpu/topk.h"

#ifdef DML_WITH_CUDA
#include "kernels/cuda/index.h"
#include "kernels/cuda/topk.h"
#endif

namespace dml {

using namespace ops;
using Grads = std::vector<Tensor>;

namespace {
// On a GPU the search runs there and only the position (and then the one bad
// value) comes back, so the error reads the same on every device.
void check_indices(const char* op, const Tensor& index, int64_t bound, const Tensor& x) {
  check_dtype(op, "index", index, DType::i64);
  int64_t bad = DML_KERNEL(index.device(), find_out_of_range, kernel_data<int64_t>(index),
                           index.numel(), bound);
  if (bad < 0) return;
  int64_t value = index.detach().reshape({-1}).slice(bad, bad + 1).to_vector<int64_t>()[0];
  throw Error(detail::concat(op, ": index ", value, " at position ", bad, " is out of range [0, ",
                             bound, ") for ", describe(x)));
}

// gather/scatter_add: the index has x's shape except along dim.
OuterInner check_gather_shapes(const char* op, const Tensor& x, int64_t d, const Tensor& index) {
  bool ok = index.dim() == x.dim();
  for (int64_t i = 0; ok && i < x.dim(); ++i) ok = i == d || index.shape()[i] == x.shape()[i];
  DML_CHECK(ok, op, ": index ", describe(index), " must match ", describe(x), " in every dim but ",
            d);
  return split_at(index.shape(), d);
}
}  // namespace

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  const char* op = "index_select";
  check_same_device(op, {&x, &index});
  check_dim(op, "index", index, 1);
  int64_t d = normalize_dim(op, dim, x.dim());
  OuterInner v = split_at(x.shape(), d);
  check_indices(op, index, v.n, x);
  Shape out_shape = x.shape();
  out_shape[d] = index.numel();
  Tensor out = empty_of(out_shape, x);
  auto run = [&](auto t) {
    using T = decltype(t);
    DML_KERNEL(x.device(), index_select<T>, kernel_data<T>(x), kernel_data<int64_t>(index),
               kernel_data<T>(out), v.outer, v.n, index.numel(), v.inner);
  };
  if (x.dtype() == DType::i64) {
    run(int64_t{});
    return out;
  }
  dispatch_float(op, x.dtype(), run);
  Shape in = x.shape();
  Tensor idx = index.detach();
  record(op, {x}, out, [in, d, idx](const Tensor& g) {
    Tensor dx = zeros(in, g.dtype(), g.device());
    OuterInner w = split_at(in, d);
    dispatch_float("index_select_backward", g.dtype(), [&](auto t) {
      using T = decltype(t);
      DML_KERNEL(g.device(), index_add<T>, kernel_data<T>(dx), kernel_data<int64_t>(idx),
                 kernel_data<T>(g), w.outer, w.n, idx.numel(), w.inner);
    });
    return Grads{dx};
  });
  return out;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  const char* op = "gather";
  check_same_device(op, {&x, &index});
  check_float(op, x);
  int64_t d = normalize_dim(op, dim, x.dim());
  OuterInner v = check_gather_shapes(op, x, d, index);
  check_indices(op, index, x.shape()[d], x);
  Tensor out = empty_of(index.shape(), x);
  dispatch_float(op, x.dtype(), [&](auto t) {
    using T = decltype(t);
    DML_KERNEL(x.device(), gather<T>, kernel_data<T>(x), kernel_data<int64_t>(index),
               kernel_data<T>(out), v.outer, x.shape()[d], v.n, v.inner);
  });
  Shape in = x.shape();
  Tensor idx = index.detach();
  record(op, {x}, out, [in, d, idx](const Tensor& g) {
    return Grads{scatter_add(zeros(in, g.dtype(), g.device()), d, idx, g)};
  });
  return out;
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  const char* op = "scatter_add";
  check_same_device(op, {&x, &index, &src});
  check_float(op, x);
  check_same_dtype(op, x, src);
  int64_t d = normalize_dim(op, dim, x.dim());
  OuterInner v = check_gather_shapes(op, x, d, index);
  DML_CHECK(src.shape() == index.shape(), op, ": src ", describe(src), " must match index ",
            describe(index));
  check_indices(op, index, x.shape()[d], x);
  Tensor out = x.detach().clone();
  dispatch_float(op, x.dtype(), [&](auto t) {
    using T = decltype(t);
    DML_KERNEL(x.device(), scatter_add<T>, kernel_data<T>(out), kernel_data<int64_t>(index),
               kernel_data<T>(src), v.outer, x.shape()[d], v.n, v.inner);
  });
  Tensor idx = index.detach();
  record(op, {x, src}, out, [d, idx](const Tensor& g) { return Grads{g, gather(g, d, idx)}; });
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  return where(mask, full({}, value, x.dtype(), x.device()), x);
}

Tensor one_hot(const Tensor& labels, int64_t num_classes, DType dtype) {
  const char* op = "one_hot";
  check_same_device(op, {&labels});
  check_dtype(op, "labels", labels, DType::i64);
  DML_CHECK(num_classes > 0, op, ": num_classes must be positive, got ", num_classes);
  check_indices(op, labels, num_classes, labels);
  Shape out_shape = labels.shape();
  out_shape.push_back(num_classes);
  Tensor out = zeros(out_shape, DType::f64, labels.device());
  DML_KERNEL(labels.device(), one_hot<double>, kernel_data<int64_t>(labels),
             kernel_data<double>(out), labels.numel(), num_classes);
  return out.to(dtype);
}

std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest) {
  const char* op = "topk";
  Device dev = check_same_device(op, {&x});
  check_float(op, x);
  int64_t d = normalize_dim(op, dim, x.dim());
  int64_t last = x.dim() - 1;
  Tensor moved = d == last ? x.detach() : transpose(x.detach(), d, last);
  int64_t n = moved.dim() ? moved.shape().back() : 1;
  DML_CHECK(k >= 0 && k <= n, op, ": k = ", k, " is out of range for dim ", d, " of size ", n,
            " in ", describe(x));
  Shape out_shape = moved.shape();
  if (!out_shape.empty()) out_shape.back() = k;
  Tensor values = empty_of(out_shape, x), indices = Tensor::empty(out_shape, DType::i64, dev);
  dispatch_float(op, x.dtype(), [&](auto t) {
    using T = decltype(t);
    DML_KERNEL(dev, topk<T>, kernel_data<T>(moved), kernel_data<T>(values),
               kernel_data<int64_t>(indices), n ? moved.numel() / n : 0, n, k, largest);
  });
  if (d != last) {
    values = transpose(values, d, last);
    indices = transpose(indices, d, last);
  }
  return {values, indices};
}

}  // namespace dml
