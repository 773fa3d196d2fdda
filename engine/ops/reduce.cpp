// Reductions over any set of dims. The kernels reduce one dim of an
// [outer, n, inner] view; several dims are reduced one after another.
#include "kernels/cpu/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/kernel_dispatch.h"
#include "engine/ops/common.h"

#ifdef DML_WITH_CUDA
#include "kernels/cuda/reduce.h"
#endif

namespace dml {

using namespace ops;
using Grads = std::vector<Tensor>;

namespace {

// Sorted, unique, non-negative dims; empty input means every dim.
std::vector<int64_t> resolve_dims(const char* op, std::vector<int64_t> dims, int64_t ndim) {
  if (dims.empty())
    for (int64_t d = 0; d < ndim; ++d) dims.push_back(d);
  for (int64_t& d : dims) d = normalize_dim(op, d, ndim);
  std::sort(dims.begin(), dims.end());
  DML_CHECK(std::adjacent_find(dims.begin(), dims.end()) == dims.end(), op,
            ": a dimension is repeated");
  if (ndim == 0) dims.clear();
  return dims;
}

Shape dropped_shape(const Shape& s, const std::vector<int64_t>& dims) {
  Shape r;
  for (size_t i = 0; i < s.size(); ++i)
    if (!std::binary_search(dims.begin(), dims.end(), int64_t(i))) r.push_back(s[i]);
  return r;
}

enum class Kind { sum, max, min };

// Reduces `dims` (resolved) and returns the keepdim-shaped result.
Tensor reduce_keep(const char* op, const Tensor& x, const std::vector<int64_t>& dims, Kind kind) {
  Device dev = check_same_device(op, {&x});
  check_float(op, x);
  Tensor cur = x.detach();
  for (auto it = dims.rbegin(); it != dims.rend(); ++it) {
    OuterInner v = split_at(cur.shape(), *it);
    DML_CHECK(kind == Kind::sum || v.n > 0, op, ": cannot reduce over an empty dim of ",
              describe(x));
    Shape next = cur.shape();
    next[*it] = 1;
    Tensor out = empty_of(next, cur);
    dispatch_float(op, x.dtype(), [&](auto t) {
      using T = decltype(t);
      if (kind == Kind::sum)
        DML_KERNEL(dev, reduce_sum<T>, kernel_data<T>(cur), kernel_data<T>(out), v.outer, v.n,
                   v.inner);
      else
        DML_KERNEL(dev, reduce_max<T>, kernel_data<T>(cur), kernel_data<T>(out), nullptr, v.outer,
                   v.n, v.inner, kind == Kind::min);
    });
    cur = out;
  }
  return cur;
}

Tensor finish(const Tensor& kept, const Shape& in, const std::vector<int64_t>& dims, bool keepdim) {
  return keepdim ? kept : kept.reshape(dropped_shape(in, dims));
}

Tensor extreme(const char* op, const Tensor& x, std::vector<int64_t> dims, bool keepdim,
               Kind kind) {
  dims = resolve_dims(op, dims, x.dim());
  Tensor kept = reduce_keep(op, x, dims, kind);
  Tensor out = finish(kept, x.shape(), dims, keepdim);
  Tensor xd = x.detach();
  Shape ks = kept.shape();
  record(op, {x}, out, [xd, kept, ks, dims](const Tensor& g) {
    // The gradient is shared evenly among the elements that attain the extreme.
    Tensor hit = eq(xd, kept).to(g.dtype());
    Tensor count = sum(hit, dims, true);
    return Grads{mul(hit, div(g.reshape(ks), count))};
  });
  return out;
}

Tensor arg_extreme(const char* op, const Tensor& x, int64_t dim, bool keepdim, bool take_min) {
  Device dev = check_same_device(op, {&x});
  check_float(op, x);
  int64_t d = normalize_dim(op, dim, x.dim());
  OuterInner v = split_at(x.shape(), d);
  DML_CHECK(v.n > 0, op, ": cannot reduce over an empty dim of ", describe(x));
  Shape ks = x.shape();
  if (!ks.empty()) ks[d] = 1;
  Tensor out = Tensor::empty(ks, DType::i64, dev);
  dispatch_float(op, x.dtype(), [&](auto t) {
    using T = decltype(t);
    DML_KERNEL(dev, reduce_max<T>, kernel_data<T>(x), static_cast<T*>(nullptr),
               kernel_data<int64_t>(out), v.outer, v.n, v.inner, take_min);
  });
  return x.dim() == 0 ? out : finish(out, x.shape(), {d}, keepdim);
}

}  // namespace

Tensor sum(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  dims = resolve_dims("sum", dims, x.dim());
  Tensor kept = reduce_keep("sum", x, dims, Kind::sum);
  Tensor out = finish(kept, x.shape(), dims, keepdim);
  Shape in = x.shape(), ks = kept.shape();
  record("sum", {x}, out, [in, ks](const Tensor& g) { return Grads{expand(g.reshape(ks), in)}; });
  return out;
}

Tensor mean(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  dims = resolve_dims("mean", dims, x.dim());
  int64_t count = 1;
  for (int64_t d : dims) count *= x.shape()[d];
  return mul(sum(x, dims, keepdim), 1.0 / double(count));
}

Tensor amax(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  return extreme("amax", x, std::move(dims), keepdim, Kind::max);
}
Tensor amin(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  return extreme("amin", x, std::move(dims), keepdim, Kind::min);
}

Tensor logsumexp(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  dims = resolve_dims("logsumexp", dims, x.dim());
  // Shift by the max for stability; an all -inf slice keeps shift 0.
  Tensor m = amax(x.detach(), dims, true);
  Tensor inf = full({}, std::numeric_limits<double>::infinity(), m.dtype(), m.device());
  m = where(eq(abs(m), inf), zeros({}, m.dtype(), m.device()), m);
  Tensor r = add(log(sum(exp(sub(x, m)), dims, true)), m);
  return finish(r, x.shape(), dims, keepdim);
}

Tensor var(const Tensor& x, std::vector<int64_t> dims, bool keepdim, int64_t correction) {
  dims = resolve_dims("var", dims, x.dim());
  int64_t count = 1;
  for (int64_t d : dims) count *= x.shape()[d];
  Tensor centered = sub(x, mean(x, dims, true));
  Tensor r = mul(sum(mul(centered, centered), dims, keepdim),
                 1.0 / double(std::max<int64_t>(count - correction, 0)));
  return r;
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_extreme("argmax", x, dim, keepdim, false);
}
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_extreme("argmin", x, dim, keepdim, true);
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  DML_CHECK(x.dim() >= int64_t(shape.size()), "sum_to: cannot reduce ", describe(x), " to ",
            shape_str(shape));
  int64_t lead = x.dim() - int64_t(shape.size());
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
      continue;
    }
    int64_t want = shape[d - lead];
    DML_CHECK(want == x.shape()[d] || want == 1, "sum_to: cannot reduce ", describe(x), " to ",
              shape_str(shape));
    if (want == 1 && x.shape()[d] != 1) dims.push_back(d);
  }
  if (dims.empty()) return x.reshape(shape);
  return sum(x, dims, true).reshape(shape);
}

}  // namespace dml
