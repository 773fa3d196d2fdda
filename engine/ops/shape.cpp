// Ops that move elements without arithmetic: broadcast copies, permutations,
// concatenation and narrowing. All produce contiguous results. Two kernels
// serve them all on either device: strided_copy (expand, permute) and
// copy_slab (concat, narrow).
#include "engine/kernel_dispatch.h"
#include "engine/ops/common.h"

#ifdef DML_WITH_CUDA
#include "kernels/cuda/strided.h"
#endif

namespace dml {

using namespace ops;
using Grads = std::vector<Tensor>;

Tensor expand(const Tensor& x, const Shape& shape) {
  Device dev = check_same_device("expand", {&x});
  Shape out_shape = broadcast_shapes("expand", x.shape(), shape);
  DML_CHECK(out_shape == shape, "expand: ", describe(x), " cannot be expanded to ",
            shape_str(shape));
  if (x.shape() == shape) return x;
  Tensor out = empty_of(shape, x);
  DML_KERNEL(dev, strided_copy, x.raw_data(), out.raw_data(), shape,
             broadcast_strides(x.shape(), shape), dtype_size(x.dtype()));
  Shape in = x.shape();
  record("expand", {x}, out, [in](const Tensor& g) { return Grads{sum_to(g, in)}; });
  return out;
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& perm) {
  Device dev = check_same_device("permute", {&x});
  DML_CHECK(int64_t(perm.size()) == x.dim(), "permute: ", perm.size(), " dims given for ",
            describe(x));
  std::vector<int64_t> dims(perm.size()), inverse(perm.size(), -1);
  for (size_t i = 0; i < perm.size(); ++i) {
    dims[i] = normalize_dim("permute", perm[i], x.dim());
    DML_CHECK(inverse[dims[i]] < 0, "permute: dim ", perm[i], " repeated for ", describe(x));
    inverse[dims[i]] = int64_t(i);
  }
  std::vector<int64_t> own = contiguous_strides(x.shape()), strides(dims.size());
  Shape out_shape(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    out_shape[i] = x.shape()[dims[i]];
    strides[i] = own[dims[i]];
  }
  Tensor out = empty_of(out_shape, x);
  DML_KERNEL(dev, strided_copy, x.raw_data(), out.raw_data(), out_shape, strides,
             dtype_size(x.dtype()));
  record("permute", {x}, out, [inverse](const Tensor& g) { return Grads{permute(g, inverse)}; });
  return out;
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  std::vector<int64_t> perm(x.dim());
  for (int64_t i = 0; i < x.dim(); ++i) perm[i] = i;
  std::swap(perm[normalize_dim("transpose", d0, x.dim())],
            perm[normalize_dim("transpose", d1, x.dim())]);
  return permute(x, perm);
}

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  DML_CHECK(!xs.empty(), "concat: no tensors given");
  const Tensor& first = xs[0];
  int64_t d = normalize_dim("concat", dim, first.dim());
  Shape out_shape = first.shape();
  out_shape[d] = 0;
  for (const Tensor& t : xs) {
    check_same_device("concat", {&first, &t});
    check_same_dtype("concat", first, t);
    bool same_rest = t.dim() == first.dim();
    for (int64_t i = 0; same_rest && i < t.dim(); ++i)
      same_rest = i == d || t.shape()[i] == first.shape()[i];
    DML_CHECK(same_rest, "concat: ", describe(t), " does not match ", describe(first),
              " outside dim ", d);
    out_shape[d] += t.shape()[d];
  }
  Tensor out = empty_of(out_shape, first);
  OuterInner v = split_at(out_shape, d);
  std::vector<int64_t> starts;
  int64_t at = 0;
  for (const Tensor& t : xs) {
    starts.push_back(at);
    DML_KERNEL(first.device(), copy_slab, t.raw_data(), t.shape()[d], 0, out.raw_data(), v.n, at,
               v.outer, t.shape()[d], v.inner, dtype_size(t.dtype()));
    at += t.shape()[d];
  }
  std::vector<int64_t> lengths;
  for (const Tensor& t : xs) lengths.push_back(t.shape()[d]);
  record("concat", xs, out, [d, starts, lengths](const Tensor& g) {
    Grads grads;
    for (size_t i = 0; i < starts.size(); ++i) grads.push_back(narrow(g, d, starts[i], lengths[i]));
    return grads;
  });
  return out;
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  DML_CHECK(!xs.empty(), "stack: no tensors given");
  int64_t d = dim < 0 ? dim + xs[0].dim() + 1 : dim;
  std::vector<Tensor> expanded;
  for (const Tensor& t : xs) {
    DML_CHECK(t.shape() == xs[0].shape(), "stack: ", describe(t), " differs from ",
              describe(xs[0]));
    expanded.push_back(t.unsqueeze(d));
  }
  return concat(expanded, d);
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  Device dev = check_same_device("narrow", {&x});
  int64_t d = normalize_dim("narrow", dim, x.dim());
  DML_CHECK(start >= 0 && length >= 0 && start + length <= x.shape()[d], "narrow: range [", start,
            ", ", start + length, ") out of bounds for dim ", d, " of ", describe(x));
  Shape out_shape = x.shape();
  out_shape[d] = length;
  Tensor out = empty_of(out_shape, x);
  OuterInner v = split_at(x.shape(), d);
  DML_KERNEL(dev, copy_slab, x.raw_data(), v.n, start, out.raw_data(), length, 0, v.outer, length,
             v.inner, dtype_size(x.dtype()));
  Shape in = x.shape();
  record("narrow", {x}, out, [in, d, start, length](const Tensor& g) {
    Tensor full = zeros(in, g.dtype(), g.device());
    OuterInner w = split_at(in, d);
    DML_KERNEL(g.device(), copy_slab, g.raw_data(), length, 0, full.raw_data(), w.n, start, w.outer,
               length, w.inner, dtype_size(g.dtype()));
    return Grads{full};
  });
  return out;
}

}  // namespace dml
