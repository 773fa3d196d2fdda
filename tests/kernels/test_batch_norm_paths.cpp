// Batch norm (kernels/cpu/batch_norm.h) on every instruction-set path against
// the formulas in double, for f32, f64 and bf16 activations: the statistics,
// the normalisation with and without the fused residual and ReLU, the
// backward (training and eval, plain and ReLU-masked) and the residual's
// mask, on planes whose sizes leave every vector width a tail.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/batch_norm.h"
#include "tests/kernels/isa_paths.h"
#include "tests/kernels/path_test_data.h"

namespace dml::cpu {
namespace {

using kernels::math_t;
using test::random_values;

class BatchNormPaths : public test::IsaPathTest {};

struct Shape {
  int64_t n, c, hw;
  int64_t size() const { return n * c * hw; }
};
const Shape kShapes[] = {{1, 1, 1}, {2, 3, 15}, {1, 2, 16}, {3, 2, 17}, {2, 3, 33}, {2, 2, 1029}};

template <class S>
std::vector<S> storage(const std::vector<double>& v) {
  std::vector<S> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = kernels::store<S>(math_t<S>(v[i]));
  return out;
}
template <class S>
std::vector<double> values(const std::vector<S>& v) {
  std::vector<double> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = double(kernels::load(v[i]));
  return out;
}

template <class S>
std::vector<S> random_storage(int64_t n, uint32_t seed) {
  return storage<S>(random_values<double>(n, seed));
}

// The activations' precision: bf16 keeps 8 bits, f32 24 (with sums of up
// to a few thousand terms).
template <class S>
double tolerance() {
  return std::is_same_v<S, bf16> ? 1e-2 : std::is_same_v<S, float> ? 2e-5 : 1e-12;
}

// Per channel: elements of channel ch, in memory order.
template <class F>
void for_channel(const Shape& s, int64_t ch, F&& f) {
  for (int64_t i = 0; i < s.n; ++i)
    for (int64_t j = 0; j < s.hw; ++j) f((i * s.c + ch) * s.hw + j);
}

template <class S>
void check_forward() {
  using T = math_t<S>;
  for (const Shape& s : kShapes) {
    // Values with a mean far from 0, which a one-pass variance would lose.
    std::vector<double> xd = values(random_storage<S>(s.size(), 1)),
                        rd = values(random_storage<S>(s.size(), 2));
    for (double& v : xd) v = v * 0.5 + 3;
    const std::vector<S> x = storage<S>(xd), residual = storage<S>(rd);
    xd = values(x);
    std::vector<T> mean(size_t(s.c)), var(size_t(s.c)), invstd(size_t(s.c)), gamma(size_t(s.c)),
        beta(size_t(s.c));
    batch_norm_stats<S>(x.data(), s.n, s.c, s.hw, mean.data(), var.data());
    for (int64_t ch = 0; ch < s.c; ++ch) {
      double m = 0, q = 0;
      const double count = double(s.n * s.hw);
      for_channel(s, ch, [&](int64_t e) { m += xd[size_t(e)]; });
      m /= count;
      for_channel(s, ch, [&](int64_t e) { q += (xd[size_t(e)] - m) * (xd[size_t(e)] - m); });
      ASSERT_NEAR(mean[size_t(ch)], m, 1e-6 * std::fabs(m)) << "hw " << s.hw;
      ASSERT_NEAR(var[size_t(ch)], q / count, 1e-5 * q / count + 1e-12) << "hw " << s.hw;
      invstd[size_t(ch)] = T(1 / std::sqrt(double(var[size_t(ch)]) + 1e-5));
      gamma[size_t(ch)] = T(0.5 + 0.25 * double(ch));
      beta[size_t(ch)] = T(0.125 * double(ch) - 0.5);
    }
    for (bool with_residual : {false, true})
      for (bool relu : {false, true}) {
        std::vector<S> y(size_t(s.size()));
        batch_norm_apply<S>(x.data(), s.n, s.c, s.hw, mean.data(), invstd.data(), gamma.data(),
                            beta.data(), with_residual ? residual.data() : nullptr, relu, y.data());
        for (int64_t ch = 0; ch < s.c; ++ch)
          for_channel(s, ch, [&](int64_t e) {
            double want = (xd[size_t(e)] - double(mean[size_t(ch)])) * double(invstd[size_t(ch)]) *
                              double(gamma[size_t(ch)]) +
                          double(beta[size_t(ch)]);
            if (with_residual) want += double(kernels::load(residual[size_t(e)]));
            if (relu) want = want > 0 ? want : 0;
            ASSERT_NEAR(double(kernels::load(y[size_t(e)])), want,
                        tolerance<S>() * (1 + std::fabs(want)))
                << "hw " << s.hw << ", residual " << with_residual << ", relu " << relu;
          });
      }
  }
}

TEST_P(BatchNormPaths, ForwardF32) {
  check_forward<float>();
}
TEST_P(BatchNormPaths, ForwardF64) {
  check_forward<double>();
}
TEST_P(BatchNormPaths, ForwardBf16) {
  check_forward<bf16>();
}

template <class S>
void check_backward() {
  using T = math_t<S>;
  for (const Shape& s : kShapes) {
    const std::vector<S> x = random_storage<S>(s.size(), 3), dy = random_storage<S>(s.size(), 4),
                         relu_y = random_storage<S>(s.size(), 5);
    const std::vector<double> xd = values(x), dyd = values(dy), yd = values(relu_y);
    std::vector<T> mean(size_t(s.c)), invstd(size_t(s.c)), gamma(size_t(s.c));
    for (int64_t ch = 0; ch < s.c; ++ch) {
      mean[size_t(ch)] = T(0.25 * double(ch) - 0.1);
      invstd[size_t(ch)] = T(1.5 - 0.25 * double(ch));
      gamma[size_t(ch)] = T(0.75 + 0.5 * double(ch));
    }
    for (bool masked : {false, true})
      for (bool training : {false, true}) {
        std::vector<S> dx(size_t(s.size()));
        std::vector<T> dgamma(size_t(s.c)), dbeta(size_t(s.c));
        batch_norm_backward<S>(dy.data(), masked ? relu_y.data() : nullptr, x.data(), s.n, s.c,
                               s.hw, mean.data(), invstd.data(), gamma.data(), training, dx.data(),
                               dgamma.data(), dbeta.data());
        const auto g = [&](int64_t e) { return !masked || yd[size_t(e)] > 0 ? dyd[size_t(e)] : 0; };
        for (int64_t ch = 0; ch < s.c; ++ch) {
          const double m = double(mean[size_t(ch)]), is = double(invstd[size_t(ch)]),
                       count = double(s.n * s.hw);
          double sum_g = 0, sum_g_xhat = 0;
          for_channel(s, ch, [&](int64_t e) {
            sum_g += g(e);
            sum_g_xhat += g(e) * (xd[size_t(e)] - m) * is;
          });
          const double scale = is * double(gamma[size_t(ch)]);
          ASSERT_NEAR(dbeta[size_t(ch)], sum_g, 2e-5 * (1 + count)) << "hw " << s.hw;
          ASSERT_NEAR(dgamma[size_t(ch)], sum_g_xhat, 2e-5 * (1 + count)) << "hw " << s.hw;
          for_channel(s, ch, [&](int64_t e) {
            const double xhat = (xd[size_t(e)] - m) * is;
            const double want = training
                                    ? scale * (g(e) - sum_g / count - xhat * sum_g_xhat / count)
                                    : scale * g(e);
            ASSERT_NEAR(double(kernels::load(dx[size_t(e)])), want,
                        tolerance<S>() * (1 + std::fabs(want)))
                << "hw " << s.hw << ", masked " << masked << ", training " << training;
          });
        }
      }
  }
}

TEST_P(BatchNormPaths, BackwardF32) {
  check_backward<float>();
}
TEST_P(BatchNormPaths, BackwardF64) {
  check_backward<double>();
}
TEST_P(BatchNormPaths, BackwardBf16) {
  check_backward<bf16>();
}

TEST_P(BatchNormPaths, ReluMaskKeepsGradientWhereOutputPositive) {
  for (int64_t n : test::kPathLengths) {
    const std::vector<float> dy = random_values<float>(n, 6, true),
                             y = random_values<float>(n, 7, true);
    std::vector<float> out(size_t(n) + 1, 42.f);
    batch_norm_relu_mask<float>(dy.data(), y.data(), out.data(), n);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_TRUE(test::same_value(out[size_t(i)], y[size_t(i)] > 0 ? dy[size_t(i)] : 0.f))
          << "n " << n << ", element " << i;
    ASSERT_EQ(out[size_t(n)], 42.f);
  }
}

DML_INSTANTIATE_ON_EVERY_ISA(BatchNormPaths);

}  // namespace
}  // namespace dml::cpu
