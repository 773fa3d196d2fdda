#include "engine/ops/common.h"

namespace dml::ops {

int64_t normalize_dim(const char* op, int64_t dim, int64_t ndim) {
  int64_t d = dim < 0 ? dim + ndim : dim;
  DML_CHECK(d >= 0 && d < std::max<int64_t>(ndim, 1), op, ": dimension ", dim,
            " is out of range for a tensor with ", ndim, " dims");
  return d;
}

Device check_same_device(const char* op, std::initializer_list<const Tensor*> ts) {
  const Tensor* first = nullptr;
  for (const Tensor* t : ts) {
    DML_CHECK(t->defined(), op, ": an input tensor is undefined");
    if (!first) first = t;
    DML_CHECK(t->device() == first->device(), op,
              ": inputs are on different devices: ", describe(*first), " and ", describe(*t),
              "; move one with .to(device)");
  }
  DML_CHECK(first, op, ": no input tensors");
  return first->device();
}

void check_float(const char* op, const Tensor& t) {
  DML_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::f64, op, ": input ", describe(t),
            " must be f32 or f64");
}

void check_float_or_bf16(const char* op, const Tensor& t) {
  DML_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::f64 || t.dtype() == DType::bf16, op,
            ": input ", describe(t), " must be f32, f64 or bf16");
}

void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  const bool bf16 = a.dtype() == DType::bf16 || b.dtype() == DType::bf16;
  DML_CHECK(
      a.dtype() == b.dtype(), op, ": dtypes differ: ", describe(a), " and ", describe(b),
      "; convert one with .to(dtype)",
      bf16 ? ", or pass f32 operands under AutocastGuard(DType::bf16) (engine/autocast.h)" : "");
}

Tensor sum_widened(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  if (x.dtype() != DType::bf16) return sum(x, std::move(dims), keepdim);
  return sum(x.to(DType::f32), std::move(dims), keepdim).to(DType::bf16);
}

void check_dtype(const char* op, const char* what, const Tensor& t, DType want) {
  DML_CHECK(t.dtype() == want, op, ": ", what, " ", describe(t), " must have dtype ",
            dtype_name(want));
}

void check_dim(const char* op, const char* what, const Tensor& t, int64_t ndim) {
  DML_CHECK(t.dim() == ndim, op, ": ", what, " must have ", ndim, " dims, got ", describe(t));
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  size_t nd = std::max(a.size(), b.size());
  Shape out(nd);
  for (size_t i = 0; i < nd; ++i) {
    int64_t da = i < nd - a.size() ? 1 : a[i - (nd - a.size())];
    int64_t db = i < nd - b.size() ? 1 : b[i - (nd - b.size())];
    DML_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", shape_str(a), " and ", shape_str(b),
              " do not broadcast (dim ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::vector<int64_t> contiguous_strides(const Shape& s) {
  std::vector<int64_t> st(s.size());
  int64_t acc = 1;
  for (int i = int(s.size()) - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  std::vector<int64_t> st(out.size(), 0);
  std::vector<int64_t> own = contiguous_strides(in);
  size_t lead = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) st[lead + i] = in[i] == 1 ? 0 : own[i];
  return st;
}

OuterInner split_at(const Shape& s, int64_t dim) {
  OuterInner r{1, s.empty() ? 1 : s[dim], 1};
  for (int64_t i = 0; i < dim; ++i) r.outer *= s[i];
  for (size_t i = dim + 1; i < s.size(); ++i) r.inner *= s[i];
  return r;
}

Tensor empty_like(const Tensor& t) {
  return Tensor::empty(t.shape(), t.dtype(), t.device());
}
Tensor empty_of(const Shape& shape, const Tensor& like) {
  return Tensor::empty(shape, like.dtype(), like.device());
}

}  // namespace dml::ops
