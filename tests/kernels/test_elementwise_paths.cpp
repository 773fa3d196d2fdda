// The elementwise kernels (kernels/cpu/elementwise.h) on every instruction-set
// path against scalar references in double: unary and binary ops with every
// broadcast layout (same shape, scalar on either side, per channel, a
// transpose), comparisons, the ReLU backward, and the casts, the f32 <-> bf16
// ones bit for bit against base/dtype.h's definition over every bf16 and a
// sweep of f32 bit patterns (ties, denormals, NaN, infinities).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <vector>

#include "base/dtype.h"
#include "kernels/cpu/elementwise.h"
#include "tests/kernels/isa_paths.h"
#include "tests/kernels/path_test_data.h"

namespace dml::cpu {
namespace {

using test::kPathLengths;
using test::random_values;
using test::same_value;

class ElementwisePaths : public test::IsaPathTest {};

// Every element's output for n inputs of op, checked against `want` (a
// double reference rounded to f32) within `relative` of it (0: exactly).
void check_unary(UnaryOp op, double p0, double p1, const std::function<double(double)>& want,
                 double relative) {
  for (int64_t n : kPathLengths) {
    const std::vector<float> x = random_values<float>(n, 1, /*specials=*/true);
    std::vector<float> y(size_t(n) + 1, 42.f);
    unary<float>(op, x.data(), y.data(), n, p0, p1);
    for (int64_t i = 0; i < n; ++i) {
      const float ref = float(want(x[size_t(i)])), got = y[size_t(i)];
      const bool close = std::isfinite(ref) && std::fabs(got - ref) <= relative * std::fabs(ref);
      ASSERT_TRUE(same_value(got, ref) || close) << "op " << int(op) << " n " << n << " x "
                                                 << x[size_t(i)] << ": " << got << " want " << ref;
    }
    ASSERT_EQ(y[size_t(n)], 42.f) << "wrote past the end, n " << n;
  }
}

TEST_P(ElementwisePaths, UnaryOpsMatchDoubleReference) {
  const double nan = NAN;
  check_unary(
      UnaryOp::relu, 0, 0, [](double v) { return v > 0 ? v : 0.0; }, 0);
  check_unary(
      UnaryOp::neg, 0, 0, [](double v) { return -v; }, 0);
  check_unary(
      UnaryOp::abs, 0, 0, [](double v) { return std::fabs(v); }, 0);
  check_unary(
      UnaryOp::sqrt, 0, 0, [](double v) { return std::sqrt(v); }, 0);
  check_unary(
      UnaryOp::add_scalar, 0.5, 0, [](double v) { return v + 0.5; }, 0);
  check_unary(
      UnaryOp::mul_scalar, 3, 0, [](double v) { return v * 3; }, 0);
  check_unary(
      UnaryOp::clamp, -0.5, 0.75,
      [&](double v) { return std::isnan(v) ? nan
                             : v < -0.5    ? -0.5
                             : v > 0.75    ? 0.75
                                           : v; }, 0);
  check_unary(
      UnaryOp::sign, 0, 0, [](double v) { return v > 0   ? 1.0
                                                 : v < 0 ? -1.0
                                                         : 0.0; }, 0);
  check_unary(
      UnaryOp::exp, 0, 0, [](double v) { return std::exp(v); }, 3e-7);
  check_unary(
      UnaryOp::sigmoid, 0, 0, [](double v) { return 1 / (1 + std::exp(-v)); }, 3e-7);
}

// A broadcast layout: the output shape and each input's strides.
struct Layout {
  const char* name;
  StridedLayout<2> L;
  int64_t a_size, b_size;
};

std::vector<Layout> layouts(int64_t n) {
  const int64_t c = 5, hw = n;  // [2, c, hw]: tails in the rows
  return {
      {"same shape", {{n}, {{{1}, {1}}}}, n, n},
      {"scalar b", {{n}, {{{1}, {0}}}}, n, 1},
      {"scalar a", {{n}, {{{0}, {1}}}}, 1, n},
      {"per channel", {{2, c, hw}, {{{c * hw, hw, 1}, {0, 1, 0}}}}, 2 * c * hw, c},
      {"transposed a", {{c, hw}, {{{1, c}, {hw, 1}}}}, c * hw, c * hw},
  };
}

// The element of a layout's input k at output index `at`, from the strides.
int64_t offset_of(const StridedLayout<2>& L, size_t k, int64_t at) {
  int64_t off = 0;
  for (int d = int(L.shape.size()) - 1; d >= 0; --d) {
    off += (at % L.shape[d]) * L.strides[k][d];
    at /= L.shape[d];
  }
  return off;
}

template <class R>
void check_binary(
    const std::function<void(const float*, const float*, R*, const StridedLayout<2>&)>& run,
    const std::function<double(double, double)>& want) {
  for (int64_t n : kPathLengths) {
    for (const Layout& lay : layouts(n)) {
      int64_t out_n = 1;
      for (int64_t s : lay.L.shape) out_n *= s;
      const std::vector<float> a = random_values<float>(lay.a_size, 2, true),
                               b = random_values<float>(lay.b_size, 3, true);
      std::vector<R> out(size_t(out_n) + 1, R(42));
      run(a.data(), b.data(), out.data(), lay.L);
      for (int64_t i = 0; i < out_n; ++i) {
        const float x = a[size_t(offset_of(lay.L, 0, i))], y = b[size_t(offset_of(lay.L, 1, i))];
        const R ref = R(want(x, y));
        ASSERT_TRUE(same_value(double(out[size_t(i)]), double(ref)))
            << lay.name << ", n " << n << ", element " << i << ": " << x << ", " << y;
      }
      ASSERT_EQ(out[size_t(out_n)], R(42)) << lay.name << " wrote past the end";
    }
  }
}

void check_binary_op(BinaryOp op, const std::function<double(double, double)>& want) {
  check_binary<float>([&](const float* a, const float* b, float* out,
                          const StridedLayout<2>& L) { binary<float>(op, a, b, out, L); },
                      want);
}

TEST_P(ElementwisePaths, BinaryOpsMatchDoubleReferenceOnEveryLayout) {
  check_binary_op(BinaryOp::add, [](double x, double y) { return x + y; });
  check_binary_op(BinaryOp::sub, [](double x, double y) { return x - y; });
  check_binary_op(BinaryOp::mul, [](double x, double y) { return x * y; });
  check_binary_op(BinaryOp::div, [](double x, double y) { return x / y; });
  // The first operand wins ties and NaN comparisons.
  check_binary_op(BinaryOp::maximum, [](double x, double y) { return x < y ? y : x; });
  check_binary_op(BinaryOp::minimum, [](double x, double y) { return y < x ? y : x; });
}

TEST_P(ElementwisePaths, ComparisonsMatchReferenceWithNaN) {
  const auto run = [](CompareOp op) {
    return [op](const float* a, const float* b, uint8_t* out, const StridedLayout<2>& L) {
      compare<float>(op, a, b, out, L);
    };
  };
  check_binary<uint8_t>(run(CompareOp::lt), [](double x, double y) { return x < y; });
  check_binary<uint8_t>(run(CompareOp::ge), [](double x, double y) { return x >= y; });
  check_binary<uint8_t>(run(CompareOp::ne), [](double x, double y) { return x != y; });
}

TEST_P(ElementwisePaths, DoubleBinaryMatchesReference) {
  for (int64_t n : kPathLengths) {
    const std::vector<double> a = random_values<double>(n, 4, true),
                              b = random_values<double>(n, 5, true);
    std::vector<double> out(static_cast<size_t>(n));
    binary<double>(BinaryOp::mul, a.data(), b.data(), out.data(), {{n}, {{{1}, {1}}}});
    for (int64_t i = 0; i < n; ++i)
      ASSERT_TRUE(same_value(out[size_t(i)], a[size_t(i)] * b[size_t(i)])) << i;
  }
}

TEST_P(ElementwisePaths, ReluBackwardPassesGradientWherePositive) {
  for (int64_t n : kPathLengths) {
    const std::vector<float> g = random_values<float>(n, 6, true),
                             x = random_values<float>(n, 7, true);
    std::vector<float> dx(size_t(n) + 1, 42.f);
    relu_backward<float>(g.data(), x.data(), dx.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const float want = x[size_t(i)] > 0 ? g[size_t(i)] : 0.f;
      ASSERT_TRUE(same_value(dx[size_t(i)], want)) << "n " << n << ", element " << i;
    }
    ASSERT_EQ(dx[size_t(n)], 42.f);
  }
}

uint32_t bits_of(float v) {
  uint32_t b;
  std::memcpy(&b, &v, 4);
  return b;
}
float float_of(uint32_t b) {
  float v;
  std::memcpy(&v, &b, 4);
  return v;
}

// f32 patterns: for every upper half (sign, exponent, 7 mantissa bits),
// the lower halves around rounding's decisions (0, below, at and above the
// tie, all ones), so every exponent's ties, denormals, NaN and infinities.
std::vector<float> f32_pattern_sweep() {
  std::vector<float> v;
  for (uint32_t hi = 0; hi < 0x10000u; ++hi)
    for (uint32_t lo : {0x0000u, 0x0001u, 0x7fffu, 0x8000u, 0x8001u, 0xffffu})
      v.push_back(float_of(hi << 16 | lo));
  return v;
}

TEST_P(ElementwisePaths, F32ToBf16RoundsAsTheDefinitionOnEveryPattern) {
  const std::vector<float> x = f32_pattern_sweep();
  const int64_t total = int64_t(x.size());
  for (int64_t n : {int64_t(0), int64_t(1), int64_t(15), int64_t(17), int64_t(33), total}) {
    std::vector<bf16> y(size_t(n) + 1, bf16{0x1234});
    cast<float, bf16>(x.data(), y.data(), n);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(y[size_t(i)].bits, to_bf16(x[size_t(i)]).bits)
          << std::hex << "f32 bits " << bits_of(x[size_t(i)]);
    ASSERT_EQ(y[size_t(n)].bits, 0x1234) << "wrote past the end, n " << n;
  }
}

// What to_bf16 means, spelled out: ties to even (also among denormals),
// overflow to infinity, NaN quiet with its sign and upper payload.
TEST_P(ElementwisePaths, F32ToBf16KnownRoundings) {
  const std::pair<uint32_t, uint16_t> cases[] = {
      {0x3f808000u, 0x3f80u}, {0x3f818000u, 0x3f82u}, {0x3f808001u, 0x3f81u},
      {0x00008000u, 0x0000u}, {0x00018000u, 0x0002u}, {0x80007fffu, 0x8000u},
      {0x7f7fffffu, 0x7f80u}, {0xff800000u, 0xff80u}, {0x7f800001u, 0x7fc0u},
      {0xff810000u, 0xffc1u}, {0x7fc00000u, 0x7fc0u}};
  std::vector<float> x;
  for (auto [f, b] : cases) x.push_back(float_of(f));
  std::vector<bf16> y(x.size());
  cast<float, bf16>(x.data(), y.data(), int64_t(x.size()));
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_EQ(y[i].bits, cases[i].second) << std::hex << "f32 bits " << cases[i].first;
}

TEST_P(ElementwisePaths, Bf16ToF32AndBackIsExactForEveryPattern) {
  std::vector<bf16> x(0x10000);
  for (uint32_t b = 0; b < 0x10000u; ++b) x[b] = bf16{uint16_t(b)};
  std::vector<float> wide(x.size());
  std::vector<bf16> back(x.size());
  cast<bf16, float>(x.data(), wide.data(), int64_t(x.size()));
  cast<float, bf16>(wide.data(), back.data(), int64_t(x.size()));
  for (uint32_t b = 0; b < 0x10000u; ++b) {
    ASSERT_EQ(bits_of(wide[b]), b << 16) << std::hex << b;
    const bool nan = (b & 0x7fffu) > 0x7f80u;
    ASSERT_EQ(back[b].bits, nan ? (b | 0x40u) : b) << std::hex << b;  // NaN comes back quiet
  }
}

TEST_P(ElementwisePaths, OtherCastsMatchReference) {
  for (int64_t n : kPathLengths) {
    const std::vector<double> x = random_values<double>(n, 8, true);
    std::vector<float> f(static_cast<size_t>(n));
    std::vector<double> d(static_cast<size_t>(n));
    cast<double, float>(x.data(), f.data(), n);
    cast<float, double>(f.data(), d.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_TRUE(same_value(f[size_t(i)], float(x[size_t(i)]))) << i;
      ASSERT_TRUE(same_value(d[size_t(i)], double(f[size_t(i)]))) << i;
    }
    std::vector<int32_t> k(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) k[size_t(i)] = int32_t(i * 7919 - 5000);
    cast<int32_t, float>(k.data(), f.data(), n);
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(f[size_t(i)], float(k[size_t(i)])) << i;
  }
}

DML_INSTANTIATE_ON_EVERY_ISA(ElementwisePaths);

}  // namespace
}  // namespace dml::cpu
