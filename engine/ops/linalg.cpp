// Matrix products on the operands' device: CBLAS on the CPU, cuBLAS on CUDA.
// Backward rules use the transpose flags of GEMM instead of materialising
// transposes, so they run on whichever device the forward did. f32, f64 and
// bf16 (f32 accumulation, each result rounded to bf16 once); under autocast
// (engine/autocast.h) f32 operands compute in bf16.
#include <algorithm>

#include "engine/autocast.h"
#include "engine/kernel_dispatch.h"
#include "engine/ops/common.h"
#include "kernels/cpu/gemm.h"

#ifdef DML_WITH_CUDA
#include "kernels/cuda/blas.h"
#include "kernels/cuda/repeat_rows.h"
#endif

namespace dml {

using namespace ops;
using Grads = std::vector<Tensor>;

namespace {

// out[r, :] = row for each of `rows` rows.
template <class T>
void repeat_rows_on([[maybe_unused]] Device d, const T* row, T* out, int64_t rows, int64_t cols) {
#ifdef DML_WITH_CUDA
  if (d.is_cuda()) return cuda::repeat_rows<T>(row, out, rows, cols, d.index);
#endif
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) out[r * cols + j] = row[j];
}

// op(a) op(b) per batch for 3-D operands whose batch sizes are equal, or 1
// for an operand shared by every batch (stride 0, never copied); no autograd.
// Checks the devices again: a backward rule gets whatever gradient it is given.
Tensor bmm_raw(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  const Device device = check_same_device("matmul", {&a, &b});
  const int64_t batch = a.shape()[0] == 1 ? b.shape()[0] : a.shape()[0];
  const int64_t m = ta ? a.shape()[2] : a.shape()[1], k = ta ? a.shape()[1] : a.shape()[2];
  const int64_t n = tb ? b.shape()[1] : b.shape()[2];
  auto stride = [](const Tensor& t) { return t.shape()[0] == 1 ? 0 : t.shape()[1] * t.shape()[2]; };
  Tensor out = empty_of({batch, m, n}, a);
  dispatch_float_or_bf16("matmul", a.dtype(), [&](auto t) {
    using T = decltype(t);
    using S = cpu::gemm_scalar_t<T>;
    DML_KERNEL(device, gemm_batched<T>, batch, ta, tb, m, n, k, S(1), kernel_data<T>(a), stride(a),
               kernel_data<T>(b), stride(b), S(0), kernel_data<T>(out), m * n);
  });
  return out;
}

// The gradient of an operand: op(a) op(b) per batch, summed over the batches
// for an operand shared by every batch. In bf16 a shared operand's per-batch
// products are summed in f32 and rounded once (bf16 products summed would
// round twice).
Tensor operand_grad(const Tensor& a, const Tensor& b, bool ta, bool tb, int64_t operand_batch) {
  const int64_t batch = std::max(a.shape()[0], b.shape()[0]);
  if (operand_batch == batch) return bmm_raw(a, b, ta, tb);
  if (a.dtype() != DType::bf16) return sum(bmm_raw(a, b, ta, tb), {0}, true);
  return sum(bmm_raw(a.to(DType::f32), b.to(DType::f32), ta, tb), {0}, true).to(DType::bf16);
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  Tensor out = bmm_raw(a, b, false, false);
  Tensor ad = a.detach(), bd = b.detach();
  bool ga = a.requires_grad(), gb = b.requires_grad();
  record("matmul", {a, b}, out, [ad, bd, ga, gb](const Tensor& g) {
    return Grads{ga ? operand_grad(g, bd, false, true, ad.shape()[0]) : Tensor(),
                 gb ? operand_grad(ad, g, true, false, bd.shape()[0]) : Tensor()};
  });
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  const char* op = "matmul";
  if (autocast_applies({&a, &b}))  // the bf16 product back in f32, as conv2d does
    return matmul(autocast_operand(a), autocast_operand(b)).to(DType::f32);
  check_same_device(op, {&a, &b});
  check_float_or_bf16(op, a);
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
  if (a.dim() == 2) return bmm(a.unsqueeze(0), b);  // [m, k] x [B, k, n]: a shared by each batch
  DML_CHECK(a.shape()[0] == b.shape()[0], op, ": batch sizes differ: ", describe(a), " x ",
            describe(b));
  return bmm(a, b);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  const char* op = "linear";
  if (autocast_applies({&x, &weight, &bias}))  // the bf16 result back in f32, as conv2d does
    return linear(autocast_operand(x), autocast_operand(weight), autocast_operand(bias))
        .to(DType::f32);
  const Device device = bias.defined() ? check_same_device(op, {&x, &weight, &bias})
                                       : check_same_device(op, {&x, &weight});
  check_float_or_bf16(op, x);
  check_same_dtype(op, x, weight);
  check_dim(op, "weight", weight, 2);
  DML_CHECK(x.dim() >= 1 && x.shape().back() == weight.shape()[1], op, ": input ", describe(x),
            " does not match weight ", describe(weight), " (in_features = ", weight.shape()[1],
            ")");
  // Rows from the leading dims, not numel / in: with no input features those
  // rows still get an output (the bias).
  const int64_t in = weight.shape()[1], out_f = weight.shape()[0],
                rows = shape_numel(Shape(x.shape().begin(), x.shape().end() - 1));
  if (bias.defined()) {
    check_same_dtype(op, x, bias);
    DML_CHECK(bias.dim() == 1 && bias.shape()[0] == out_f, op, ": bias ", describe(bias),
              " must be [", out_f, "]");
  }
  Shape out_shape = x.shape();
  out_shape.back() = out_f;
  Tensor y = empty_of(out_shape, x);
  dispatch_float_or_bf16(op, x.dtype(), [&](auto t) {
    using T = decltype(t);
    using S = cpu::gemm_scalar_t<T>;
    T* yp = kernel_data<T>(y);
    S beta = S(0);
    // Start from the broadcast bias, then accumulate x W^T onto it: in bf16
    // that rounds x W^T + b once.
    if (bias.defined()) {
      repeat_rows_on<T>(device, kernel_data<T>(bias), yp, rows, out_f);
      beta = S(1);
    }
    DML_KERNEL(device, gemm<T>, false, true, rows, out_f, in, S(1), kernel_data<T>(x), in,
               kernel_data<T>(weight), in, beta, yp, out_f);
  });
  Tensor xd = x.detach(), wd = weight.detach();
  bool gx = x.requires_grad(), gw = weight.requires_grad(),
       gbias = bias.defined() && bias.requires_grad();
  record(op, {x, weight, bias}, y, [=](const Tensor& g) {
    check_same_device("linear backward", {&g, &xd});
    Grads grads(3);
    dispatch_float_or_bf16("linear_backward", g.dtype(), [&](auto t) {
      using T = decltype(t);
      using S = cpu::gemm_scalar_t<T>;
      if (gx) {
        grads[0] = empty_of(xd.shape(), g);
        DML_KERNEL(device, gemm<T>, false, false, rows, in, out_f, S(1), kernel_data<T>(g), out_f,
                   kernel_data<T>(wd), in, S(0), kernel_data<T>(grads[0]), in);
      }
      if (gw) {
        grads[1] = empty_of(wd.shape(), g);
        DML_KERNEL(device, gemm<T>, true, false, out_f, in, rows, S(1), kernel_data<T>(g), out_f,
                   kernel_data<T>(xd), in, S(0), kernel_data<T>(grads[1]), in);
      }
    });
    if (gbias) grads[2] = sum_widened(g.reshape({rows, out_f}), {0});
    return grads;
  });
  return y;
}

}  // namespace dml
