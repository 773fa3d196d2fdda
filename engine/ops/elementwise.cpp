// Elementwise ops and their derivative rules, one line each where possible.
// Every kernel call goes through DML_KERNEL, so each op (and each backward
// rule, built from these ops) runs on the CPU or on its inputs' GPU.
#include "kernels/cpu/elementwise.h"

#include <limits>

#include "engine/kernel_dispatch.h"
#include "engine/ops/common.h"
#ifdef DML_WITH_CUDA
#include "kernels/cuda/elementwise.h"
#endif

namespace dml {

using namespace ops;
using cpu::BinaryOp;
using cpu::CompareOp;
using cpu::UnaryOp;
using Grads = std::vector<Tensor>;

namespace {

Tensor scalar_like(double v, const Tensor& t) {
  return full({}, v, t.dtype(), t.device());
}
Tensor as_float(const Tensor& mask, const Tensor& like) {
  return mask.to(like.dtype());
}

Tensor run_unary(const char* op, const Tensor& x, UnaryOp k, double p0 = 0, double p1 = 0) {
  Device dev = check_same_device(op, {&x});
  check_float(op, x);
  Tensor y = empty_like(x);
  dispatch_float(op, x.dtype(), [&](auto t) {
    using T = decltype(t);
    DML_KERNEL(dev, unary<T>, k, kernel_data<T>(x), kernel_data<T>(y), x.numel(), p0, p1);
  });
  return y;
}

cpu::StridedLayout<2> layout2(const char* op, const Tensor& a, const Tensor& b) {
  Shape out = broadcast_shapes(op, a.shape(), b.shape());
  return {out, {broadcast_strides(a.shape(), out), broadcast_strides(b.shape(), out)}};
}

Tensor run_binary(const char* op, const Tensor& a, const Tensor& b, BinaryOp k) {
  Device dev = check_same_device(op, {&a, &b});
  check_float(op, a);
  check_same_dtype(op, a, b);
  auto L = layout2(op, a, b);
  Tensor out = empty_of(L.shape, a);
  dispatch_float(op, a.dtype(), [&](auto t) {
    using T = decltype(t);
    DML_KERNEL(dev, binary<T>, k, kernel_data<T>(a), kernel_data<T>(b), kernel_data<T>(out), L);
  });
  return out;
}

Tensor run_compare(const char* op, const Tensor& a, const Tensor& b, CompareOp k) {
  Device dev = check_same_device(op, {&a, &b});
  check_same_dtype(op, a, b);
  auto L = layout2(op, a, b);
  Tensor out = Tensor::empty(L.shape, DType::u8, dev);
  auto run = [&](auto t) {
    using T = decltype(t);
    DML_KERNEL(dev, compare<T>, k, kernel_data<T>(a), kernel_data<T>(b), kernel_data<uint8_t>(out),
               L);
  };
  switch (a.dtype()) {
    case DType::f32:
      run(float{});
      break;
    case DType::f64:
      run(double{});
      break;
    case DType::i64:
      run(int64_t{});
      break;
    case DType::i32:
      run(int32_t{});
      break;
    case DType::u8:
      run(uint8_t{});
      break;
    default:
      throw Error(detail::concat(op, ": dtype ", dtype_name(a.dtype()), " not supported"));
  }
  return out;
}

// Records a binary op whose rule gives full-shape gradients; they are summed
// back to each operand's shape here, once, for every broadcasting op.
template <class Rule>
Tensor record_binary(const char* name, const Tensor& a, const Tensor& b, Tensor out, Rule rule) {
  Shape sa = a.shape(), sb = b.shape();
  bool ga = a.requires_grad(), gb = b.requires_grad();
  record(name, {a, b}, out, [=](const Tensor& g) {
    auto [da, db] = rule(g, ga, gb);
    return Grads{ga ? sum_to(da, sa) : Tensor(), gb ? sum_to(db, sb) : Tensor()};
  });
  return out;
}

template <class Rule>
Tensor record_unary(const char* name, const Tensor& x, Tensor out, Rule rule) {
  record(name, {x}, out, [rule](const Tensor& g) { return Grads{rule(g)}; });
  return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  return record_binary("add", a, b, run_binary("add", a, b, BinaryOp::add),
                       [](const Tensor& g, bool, bool) {
                         return std::pair{g, g};
                       });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  return record_binary("sub", a, b, run_binary("sub", a, b, BinaryOp::sub),
                       [](const Tensor& g, bool, bool gb) {
                         return std::pair{g, gb ? neg(g) : Tensor()};
                       });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor ad = a.detach(), bd = b.detach();
  return record_binary("mul", a, b, run_binary("mul", a, b, BinaryOp::mul),
                       [ad, bd](const Tensor& g, bool ga, bool gb) {
                         return std::pair{ga ? mul(g, bd) : Tensor(), gb ? mul(g, ad) : Tensor()};
                       });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary("div", a, b, BinaryOp::div);
  Tensor bd = b.detach(), od = out.detach();
  return record_binary("div", a, b, out, [bd, od](const Tensor& g, bool ga, bool gb) {
    Tensor ga_ = ga ? div(g, bd) : Tensor();
    return std::pair{ga_, gb ? neg(div(mul(g, od), bd)) : Tensor()};
  });
}

Tensor pow(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary("pow", a, b, BinaryOp::pow);
  Tensor ad = a.detach(), bd = b.detach(), od = out.detach();
  return record_binary("pow", a, b, out, [ad, bd, od](const Tensor& g, bool ga, bool gb) {
    Tensor da = ga ? mul(g, mul(bd, pow(ad, sub(bd, scalar_like(1, bd))))) : Tensor();
    return std::pair{da, gb ? mul(g, mul(od, log(ad))) : Tensor()};
  });
}

namespace {
// Ties split the gradient in half, as PyTorch does.
Tensor extremum(const char* name, const Tensor& a, const Tensor& b, BinaryOp k, CompareOp wins) {
  Tensor out = run_binary(name, a, b, k);
  Tensor ad = a.detach(), bd = b.detach();
  return record_binary(name, a, b, out, [ad, bd, wins](const Tensor& g, bool, bool) {
    Tensor share_a =
        add(as_float(run_compare("extremum", ad, bd, wins), g), mul(as_float(eq(ad, bd), g), 0.5));
    Tensor da = mul(g, share_a);
    return std::pair{da, sub(g, da)};
  });
}
}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) {
  return extremum("maximum", a, b, BinaryOp::maximum, CompareOp::gt);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return extremum("minimum", a, b, BinaryOp::minimum, CompareOp::lt);
}

Tensor add(const Tensor& a, double s) {
  return record_unary("add_scalar", a, run_unary("add_scalar", a, UnaryOp::add_scalar, s),
                      [](const Tensor& g) { return g; });
}
Tensor mul(const Tensor& a, double s) {
  return record_unary("mul_scalar", a, run_unary("mul_scalar", a, UnaryOp::mul_scalar, s),
                      [s](const Tensor& g) { return mul(g, s); });
}
Tensor pow(const Tensor& a, double e) {
  Tensor ad = a.detach();
  return record_unary("pow_scalar", a, run_unary("pow_scalar", a, UnaryOp::pow_scalar, e),
                      [ad, e](const Tensor& g) { return mul(g, mul(pow(ad, e - 1), e)); });
}

Tensor neg(const Tensor& x) {
  return record_unary("neg", x, run_unary("neg", x, UnaryOp::neg),
                      [](const Tensor& g) { return neg(g); });
}
Tensor exp(const Tensor& x) {
  Tensor y = run_unary("exp", x, UnaryOp::exp);
  Tensor yd = y.detach();
  return record_unary("exp", x, y, [yd](const Tensor& g) { return mul(g, yd); });
}
Tensor log(const Tensor& x) {
  Tensor xd = x.detach();
  return record_unary("log", x, run_unary("log", x, UnaryOp::log),
                      [xd](const Tensor& g) { return div(g, xd); });
}
Tensor sqrt(const Tensor& x) {
  Tensor y = run_unary("sqrt", x, UnaryOp::sqrt);
  Tensor yd = y.detach();
  return record_unary("sqrt", x, y, [yd](const Tensor& g) { return div(mul(g, 0.5), yd); });
}
Tensor rsqrt(const Tensor& x) {
  Tensor y = run_unary("rsqrt", x, UnaryOp::rsqrt);
  Tensor yd = y.detach();
  return record_unary("rsqrt", x, y,
                      [yd](const Tensor& g) { return mul(g, mul(pow(yd, 3.0), -0.5)); });
}
Tensor abs(const Tensor& x) {
  Tensor xd = x.detach();
  return record_unary("abs", x, run_unary("abs", x, UnaryOp::abs), [xd](const Tensor& g) {
    return mul(g, run_unary("sign", xd, UnaryOp::sign));
  });
}
Tensor relu(const Tensor& x) {
  // The rule reads the output (y > 0 exactly where x > 0): the next layer
  // keeps y alive anyway, so the input (a batch-norm output) can be freed.
  Tensor y = run_unary("relu", x, UnaryOp::relu);
  Tensor yd = y.detach();
  return record_unary("relu", x, y, [yd](const Tensor& g) {
    Device dev = check_same_device("relu_backward", {&g, &yd});
    Tensor dx = empty_like(g);
    dispatch_float("relu_backward", g.dtype(), [&](auto t) {
      using T = decltype(t);
      DML_KERNEL(dev, relu_backward<T>, kernel_data<T>(g), kernel_data<T>(yd), kernel_data<T>(dx),
                 g.numel());
    });
    return dx;
  });
}
Tensor sigmoid(const Tensor& x) {
  Tensor y = run_unary("sigmoid", x, UnaryOp::sigmoid);
  Tensor yd = y.detach();
  return record_unary("sigmoid", x, y, [yd](const Tensor& g) { return mul(g, mul(yd, 1.0 - yd)); });
}
Tensor tanh(const Tensor& x) {
  Tensor y = run_unary("tanh", x, UnaryOp::tanh);
  Tensor yd = y.detach();
  return record_unary("tanh", x, y, [yd](const Tensor& g) { return mul(g, 1.0 - mul(yd, yd)); });
}
Tensor softplus(const Tensor& x, double beta, double threshold) {
  Tensor xd = x.detach();
  return record_unary(
      "softplus", x, run_unary("softplus", x, UnaryOp::softplus, beta, threshold),
      [xd, beta, threshold](const Tensor& g) {
        Tensor bx = mul(xd, beta);
        return mul(g, where(gt(bx, scalar_like(threshold, bx)), ones_like(bx), sigmoid(bx)));
      });
}
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  double lo = min.value_or(-std::numeric_limits<double>::infinity());
  double hi = max.value_or(std::numeric_limits<double>::infinity());
  Tensor xd = x.detach();
  return record_unary(
      "clamp", x, run_unary("clamp", x, UnaryOp::clamp, lo, hi), [xd, lo, hi](const Tensor& g) {
        Tensor inside =
            mul(as_float(ge(xd, scalar_like(lo, xd)), g), as_float(le(xd, scalar_like(hi, xd)), g));
        return mul(g, inside);
      });
}
Tensor safe_sqrt(const Tensor& x) {
  Tensor y = run_unary("safe_sqrt", x, UnaryOp::safe_sqrt);
  Tensor yd = y.detach();
  return record_unary("safe_sqrt", x, y, [yd](const Tensor& g) {
    Tensor positive = gt(yd, scalar_like(0, yd));
    Tensor safe_y = where(positive, yd, ones_like(yd));
    return where(positive, div(mul(g, 0.5), safe_y), zeros_like(g));
  });
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  const char* op = "where";
  Device dev = check_same_device(op, {&cond, &a, &b});
  check_dtype(op, "condition", cond, DType::u8);
  check_same_dtype(op, a, b);
  Shape out_shape = broadcast_shapes(op, broadcast_shapes(op, cond.shape(), a.shape()), b.shape());
  cpu::StridedLayout<3> L{
      out_shape,
      {broadcast_strides(cond.shape(), out_shape), broadcast_strides(a.shape(), out_shape),
       broadcast_strides(b.shape(), out_shape)}};
  Tensor out = empty_of(out_shape, a);
  auto run = [&](auto t) {
    using T = decltype(t);
    DML_KERNEL(dev, where<T>, kernel_data<uint8_t>(cond), kernel_data<T>(a), kernel_data<T>(b),
               kernel_data<T>(out), L);
  };
  if (a.dtype() == DType::i64) {
    run(int64_t{});
    return out;
  }
  dispatch_float(op, a.dtype(), run);
  Tensor cd = cond.detach();
  return record_binary("where", a, b, out, [cd](const Tensor& g, bool ga, bool gb) {
    Tensor zero = zeros({}, g.dtype(), g.device());
    return std::pair{ga ? where(cd, g, zero) : Tensor(), gb ? where(cd, zero, g) : Tensor()};
  });
}

Tensor eq(const Tensor& a, const Tensor& b) {
  return run_compare("eq", a, b, CompareOp::eq);
}
Tensor ne(const Tensor& a, const Tensor& b) {
  return run_compare("ne", a, b, CompareOp::ne);
}
Tensor lt(const Tensor& a, const Tensor& b) {
  return run_compare("lt", a, b, CompareOp::lt);
}
Tensor le(const Tensor& a, const Tensor& b) {
  return run_compare("le", a, b, CompareOp::le);
}
Tensor gt(const Tensor& a, const Tensor& b) {
  return run_compare("gt", a, b, CompareOp::gt);
}
Tensor ge(const Tensor& a, const Tensor& b) {
  return run_compare("ge", a, b, CompareOp::ge);
}

Tensor operator+(const Tensor& a, const Tensor& b) {
  return add(a, b);
}
Tensor operator-(const Tensor& a, const Tensor& b) {
  return sub(a, b);
}
Tensor operator*(const Tensor& a, const Tensor& b) {
  return mul(a, b);
}
Tensor operator/(const Tensor& a, const Tensor& b) {
  return div(a, b);
}
Tensor operator-(const Tensor& x) {
  return neg(x);
}
Tensor operator+(const Tensor& a, double s) {
  return add(a, s);
}
Tensor operator-(const Tensor& a, double s) {
  return add(a, -s);
}
Tensor operator*(const Tensor& a, double s) {
  return mul(a, s);
}
Tensor operator/(const Tensor& a, double s) {
  return mul(a, 1.0 / s);
}
Tensor operator+(double s, const Tensor& a) {
  return add(a, s);
}
Tensor operator-(double s, const Tensor& a) {
  return add(neg(a), s);
}
Tensor operator*(double s, const Tensor& a) {
  return mul(a, s);
}

}  // namespace dml
