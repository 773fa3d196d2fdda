#pragma once
// What the CPU and CUDA elementwise kernels share: the op codes, the strided
// layout of a broadcasting op, and each op's arithmetic on one element, so
// both backends compute the same function (NaN handling of max/min/clamp,
// the overflow-free sigmoid, softplus's linear region, the cast rounding).
// C++17 and host/device annotated: .cu files include it.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "base/dtype.h"
#include "base/host_device.h"

namespace dml::kernels {

enum class UnaryOp {
  neg,
  exp,
  log,
  sqrt,
  rsqrt,
  abs,
  relu,
  sigmoid,
  tanh,
  softplus,    // p0 = beta, p1 = threshold (linear above it, as PyTorch)
  pow_scalar,  // x ^ p0
  clamp,       // to [p0, p1]
  add_scalar,  // x + p0
  mul_scalar,  // x * p0
  safe_sqrt,   // sqrt(max(x, 0))
  sign,
};

enum class BinaryOp { add, sub, mul, div, pow, maximum, minimum };
enum class CompareOp { eq, ne, lt, le, gt, ge };

template <size_t K>
struct StridedLayout {
  std::vector<int64_t> shape;                   // output shape
  std::array<std::vector<int64_t>, K> strides;  // per input, one per output dim
};

// std::max / std::min exactly (the first argument wins ties and NaN
// comparisons), callable on the device.
template <class T>
DML_HOST_DEVICE T max_of(T x, T y) {
  return x < y ? y : x;
}
template <class T>
DML_HOST_DEVICE T min_of(T x, T y) {
  return y < x ? y : x;
}

// One element of a unary op; a, b are the op's parameters p0, p1.
template <UnaryOp Op, class T>
struct UnaryFn {
  T a, b;
  DML_HOST_DEVICE T operator()(T v) const {
    if constexpr (Op == UnaryOp::neg)
      return -v;
    else if constexpr (Op == UnaryOp::exp)
      return std::exp(v);
    else if constexpr (Op == UnaryOp::log)
      return std::log(v);
    else if constexpr (Op == UnaryOp::sqrt)
      return std::sqrt(v);
    else if constexpr (Op == UnaryOp::rsqrt)
      return T(1) / std::sqrt(v);
    else if constexpr (Op == UnaryOp::abs)
      return std::abs(v);
    else if constexpr (Op == UnaryOp::relu)
      return v > T(0) ? v : T(0);
    else if constexpr (Op == UnaryOp::sigmoid) {
      // Split by sign so exp never overflows.
      if (v >= T(0)) return T(1) / (T(1) + std::exp(-v));
      T e = std::exp(v);
      return e / (T(1) + e);
    } else if constexpr (Op == UnaryOp::tanh)
      return std::tanh(v);
    else if constexpr (Op == UnaryOp::softplus)
      return v * a > b ? v : std::log1p(std::exp(v * a)) / a;
    else if constexpr (Op == UnaryOp::pow_scalar)
      return std::pow(v, a);
    else if constexpr (Op == UnaryOp::clamp)
      return min_of(max_of(v, a), b);
    else if constexpr (Op == UnaryOp::add_scalar)
      return v + a;
    else if constexpr (Op == UnaryOp::mul_scalar)
      return v * a;
    else if constexpr (Op == UnaryOp::safe_sqrt)
      return v > T(0) ? std::sqrt(v) : T(0);
    else {
      static_assert(Op == UnaryOp::sign);
      return T((v > T(0)) - (v < T(0)));
    }
  }
};

template <BinaryOp Op, class T>
struct BinaryFn {
  DML_HOST_DEVICE T operator()(T x, T y) const {
    if constexpr (Op == BinaryOp::add)
      return x + y;
    else if constexpr (Op == BinaryOp::sub)
      return x - y;
    else if constexpr (Op == BinaryOp::mul)
      return x * y;
    else if constexpr (Op == BinaryOp::div)
      return x / y;
    else if constexpr (Op == BinaryOp::pow)
      return std::pow(x, y);
    else if constexpr (Op == BinaryOp::maximum)
      return max_of(x, y);
    else {
      static_assert(Op == BinaryOp::minimum);
      return min_of(x, y);
    }
  }
};

template <CompareOp Op, class T>
struct CompareFn {
  DML_HOST_DEVICE uint8_t operator()(T x, T y) const {
    if constexpr (Op == CompareOp::eq)
      return x == y;
    else if constexpr (Op == CompareOp::ne)
      return x != y;
    else if constexpr (Op == CompareOp::lt)
      return x < y;
    else if constexpr (Op == CompareOp::le)
      return x <= y;
    else if constexpr (Op == CompareOp::gt)
      return x > y;
    else {
      static_assert(Op == CompareOp::ge);
      return x >= y;
    }
  }
};

// Calls f with the element function of a run-time op code: the one switch
// per op family, so a backend writes its loop once and gets every op.
template <class T, class F>
void visit(UnaryOp op, T a, T b, F&& f) {
  switch (op) {
    case UnaryOp::neg:
      return f(UnaryFn<UnaryOp::neg, T>{a, b});
    case UnaryOp::exp:
      return f(UnaryFn<UnaryOp::exp, T>{a, b});
    case UnaryOp::log:
      return f(UnaryFn<UnaryOp::log, T>{a, b});
    case UnaryOp::sqrt:
      return f(UnaryFn<UnaryOp::sqrt, T>{a, b});
    case UnaryOp::rsqrt:
      return f(UnaryFn<UnaryOp::rsqrt, T>{a, b});
    case UnaryOp::abs:
      return f(UnaryFn<UnaryOp::abs, T>{a, b});
    case UnaryOp::relu:
      return f(UnaryFn<UnaryOp::relu, T>{a, b});
    case UnaryOp::sigmoid:
      return f(UnaryFn<UnaryOp::sigmoid, T>{a, b});
    case UnaryOp::tanh:
      return f(UnaryFn<UnaryOp::tanh, T>{a, b});
    case UnaryOp::softplus:
      return f(UnaryFn<UnaryOp::softplus, T>{a, b});
    case UnaryOp::pow_scalar:
      return f(UnaryFn<UnaryOp::pow_scalar, T>{a, b});
    case UnaryOp::clamp:
      return f(UnaryFn<UnaryOp::clamp, T>{a, b});
    case UnaryOp::add_scalar:
      return f(UnaryFn<UnaryOp::add_scalar, T>{a, b});
    case UnaryOp::mul_scalar:
      return f(UnaryFn<UnaryOp::mul_scalar, T>{a, b});
    case UnaryOp::safe_sqrt:
      return f(UnaryFn<UnaryOp::safe_sqrt, T>{a, b});
    case UnaryOp::sign:
      return f(UnaryFn<UnaryOp::sign, T>{a, b});
  }
}

template <class T, class F>
void visit(BinaryOp op, F&& f) {
  switch (op) {
    case BinaryOp::add:
      return f(BinaryFn<BinaryOp::add, T>{});
    case BinaryOp::sub:
      return f(BinaryFn<BinaryOp::sub, T>{});
    case BinaryOp::mul:
      return f(BinaryFn<BinaryOp::mul, T>{});
    case BinaryOp::div:
      return f(BinaryFn<BinaryOp::div, T>{});
    case BinaryOp::pow:
      return f(BinaryFn<BinaryOp::pow, T>{});
    case BinaryOp::maximum:
      return f(BinaryFn<BinaryOp::maximum, T>{});
    case BinaryOp::minimum:
      return f(BinaryFn<BinaryOp::minimum, T>{});
  }
}

template <class T, class F>
void visit(CompareOp op, F&& f) {
  switch (op) {
    case CompareOp::eq:
      return f(CompareFn<CompareOp::eq, T>{});
    case CompareOp::ne:
      return f(CompareFn<CompareOp::ne, T>{});
    case CompareOp::lt:
      return f(CompareFn<CompareOp::lt, T>{});
    case CompareOp::le:
      return f(CompareFn<CompareOp::le, T>{});
    case CompareOp::gt:
      return f(CompareFn<CompareOp::gt, T>{});
    case CompareOp::ge:
      return f(CompareFn<CompareOp::ge, T>{});
  }
}

// One element of the ReLU backward: g where x > 0, else 0.
template <class T>
DML_HOST_DEVICE T relu_grad(T g, T x) {
  return x > T(0) ? g : T(0);
}

// Casts go through double (16-bit floats through float), the same route on
// both backends: an i64 -> f32 cast rounds twice, identically everywhere.
template <class T>
DML_HOST_DEVICE double widen(T v) {
  if constexpr (std::is_same_v<T, bf16> || std::is_same_v<T, f16>)
    return to_float(v);
  else
    return double(v);
}
template <class T>
DML_HOST_DEVICE T narrow(double v) {
  if constexpr (std::is_same_v<T, bf16>)
    return to_bf16(float(v));
  else if constexpr (std::is_same_v<T, f16>)
    return to_f16(float(v));
  else
    return T(v);
}

}  // namespace dml::kernels

// Every (From, To) pair of element types that casts exist for: X(From, To)
// once per pair. Both backends instantiate their cast kernels from this one
// list.
// clang-format off
#define DML_CASTS_FROM(X, From) \
  X(From, float) X(From, double) X(From, bf16) X(From, f16) \
  X(From, int32_t) X(From, int64_t) X(From, uint8_t)
#define DML_FOR_EACH_CAST(X) \
  DML_CASTS_FROM(X, float) DML_CASTS_FROM(X, double) DML_CASTS_FROM(X, bf16) \
  DML_CASTS_FROM(X, f16) DML_CASTS_FROM(X, int32_t) DML_CASTS_FROM(X, int64_t) \
  DML_CASTS_FROM(X, uint8_t)
// clang-format on
