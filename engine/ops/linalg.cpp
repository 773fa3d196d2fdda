// Matrix products through CBLAS. Backward rules use the transpose flags of
// GEMM instead of materialising transposes.
#include "kernels/cpu/gemm.h"

#include "engine/ops/common.h"

namespace dml {

using namespace ops;
using Grads = std::vector<Tensor>;

namespace {

// Batched op(a) op(b) for 3-D operands of one batch size; no autograd.
Tensor bmm_raw(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  int64_t batch = a.shape()[0];
  int64_t m = ta ? a.shape()[2] : a.shape()[1], k = ta ? a.shape()[1] : a.shape()[2];
  int64_t n = tb ? b.shape()[1] : b.shape()[2];
  Tensor out = empty_of({batch, m, n}, a);
  dispatch_float("matmul", a.dtype(), [&](auto t) {
    using T = decltype(t);
    cpu::gemm_batched<T>(batch, ta, tb, m, n, k, T(1), a.data<T>(), a.shape()[1] * a.shape()[2],
                         b.data<T>(), b.shape()[1] * b.shape()[2], T(0), out.data<T>(), m * n);
  });
  return out;
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  Tensor out = bmm_raw(a, b, false, false);
  Tensor ad = a.detach(), bd = b.detach();
  bool ga = a.requires_grad(), gb = b.requires_grad();
  record("matmul", {a, b}, out, [ad, bd, ga, gb](const Tensor& g) {
    return Grads{ga ? bmm_raw(g, bd, false, true) : Tensor(),
                 gb ? bmm_raw(ad, g, true, false) : Tensor()};
  });
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  const char* op = "matmul";
  check_cpu(op, {&a, &b});
  check_float(op, a);
  check_same_dtype(op, a, b);
  DML_CHECK((a.dim() == 2 || a.dim() == 3) && (b.dim() == 2 || b.dim() == 3), op,
            ": operands must be 2-D or 3-D, got ", describe(a), " and ", describe(b));
  DML_CHECK(a.shape().back() == b.shape()[b.dim() - 2], op, ": inner sizes differ: ", describe(a),
            " x ", describe(b));
  if (a.dim() == 2 && b.dim() == 2) return bmm(a.unsqueeze(0), b.unsqueeze(0)).squeeze(0);
  if (b.dim() == 2) {  // [B, m, k] x [k, n]: one GEMM over B * m rows
    int64_t batch = a.shape()[0], m = a.shape()[1];
    return bmm(a.reshape({1, batch * m, a.shape()[2]}), b.unsqueeze(0))
        .reshape({batch, m, b.shape()[1]});
  }
  if (a.dim() == 2)
    return bmm(expand(a.unsqueeze(0), {b.shape()[0], a.shape()[0], a.shape()[1]}), b);
  DML_CHECK(a.shape()[0] == b.shape()[0], op, ": batch sizes differ: ", describe(a), " x ",
            describe(b));
  return bmm(a, b);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  const char* op = "linear";
  check_cpu(op, {&x, &weight});
  check_float(op, x);
  check_same_dtype(op, x, weight);
  check_dim(op, "weight", weight, 2);
  DML_CHECK(x.dim() >= 1 && x.shape().back() == weight.shape()[1], op, ": input ", describe(x),
            " does not match weight ", describe(weight), " (in_features = ", weight.shape()[1],
            ")");
  const int64_t in = weight.shape()[1], out_f = weight.shape()[0],
                rows = x.numel() / std::max<int64_t>(in, 1);
  if (bias.defined()) {
    check_cpu(op, {&bias});
    check_same_dtype(op, x, bias);
    DML_CHECK(bias.dim() == 1 && bias.shape()[0] == out_f, op, ": bias ", describe(bias),
              " must be [", out_f, "]");
  }
  Shape out_shape = x.shape();
  out_shape.back() = out_f;
  Tensor y = empty_of(out_shape, x);
  dispatch_float(op, x.dtype(), [&](auto t) {
    using T = decltype(t);
    T* yp = y.data<T>();
    T beta = T(0);
    if (bias.defined()) {  // start from the broadcast bias, then accumulate x W^T
      const T* bp = bias.data<T>();
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < out_f; ++j) yp[r * out_f + j] = bp[j];
      beta = T(1);
    }
    cpu::gemm<T>(false, true, rows, out_f, in, T(1), x.data<T>(), in, weight.data<T>(), in, beta,
                 yp, out_f);
  });
  Tensor xd = x.detach(), wd = weight.detach();
  bool gx = x.requires_grad(), gw = weight.requires_grad(),
       gbias = bias.defined() && bias.requires_grad();
  record(op, {x, weight, bias}, y, [=](const Tensor& g) {
    Grads grads(3);
    dispatch_float("linear_backward", g.dtype(), [&](auto t) {
      using T = decltype(t);
      if (gx) {
        grads[0] = empty_of(xd.shape(), g);
        cpu::gemm<T>(false, false, rows, in, out_f, T(1), g.data<T>(), out_f, wd.data<T>(), in,
                     T(0), grads[0].data<T>(), in);
      }
      if (gw) {
        grads[1] = empty_of(wd.shape(), g);
        cpu::gemm<T>(true, false, out_f, in, rows, T(1), g.data<T>(), out_f, xd.data<T>(), in, T(0),
                     grads[1].data<T>(), in);
      }
    });
    if (gbias) grads[2] = sum(g.reshape({rows, out_f}), {0});
    return grads;
  });
  return y;
}

}  // namespace dml
