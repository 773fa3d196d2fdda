// The optimizer steps (kernels/cpu/optim.h) on every instruction-set path:
// Adam, AdamW and SGD (plain, momentum, Nesterov) against the formulas in
// double, and bit for bit against the one-element update run in a plain
// loop (so every path gives the same bits); the non-finite check finds a NaN
// or infinity at any position, tails included, and unscales the rest.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/optim.h"
#include "tests/kernels/isa_paths.h"
#include "tests/kernels/path_test_data.h"

namespace dml::cpu {
namespace {

using test::kPathLengths;
using test::random_values;

class OptimPaths : public test::IsaPathTest {};

// Within f32 rounding of terms of order 1 (a sum may cancel to less).
void expect_near_relative(double got, double want, const char* what, int64_t n, int64_t i) {
  ASSERT_NEAR(got, want, 1e-5 * std::fabs(want) + 1e-6) << what << ", n " << n << ", element " << i;
}

TEST_P(OptimPaths, AdamMatchesFormulaAndElementUpdate) {
  for (bool decoupled : {false, true}) {
    // Coefficients exact in f32, so the double formula sees what the kernel
    // computes with (1 - 0.999 in f32 is 1.3e-5 off, relatively).
    const kernels::AdamParams p{0.0078125, 0.875, 1 - 0x1p-10, 0x1p-27, 0.0625, decoupled, 3};
    const AdamCoeffs<float> c(p);
    for (int64_t n : kPathLengths) {
      std::vector<float> param = random_values<float>(n, 1), grad = random_values<float>(n, 2),
                         m = random_values<float>(n, 3), v = random_values<float>(n, 4);
      for (float& x : v) x = x * x;
      std::vector<float> param0 = param, m0 = m, v0 = v;
      adam_step<float>({{param.data(), grad.data(), m.data(), v.data(), n}}, &c, nullptr);
      for (int64_t i = 0; i < n; ++i) {
        const size_t k = size_t(i);
        // The element update in a plain loop: the same bits on every path.
        float ep = param0[k], em = m0[k], ev = v0[k];
        kernels::adam_update(ep, grad[k], em, ev, c);
        ASSERT_EQ(param[k], ep) << "n " << n << ", element " << i;
        ASSERT_EQ(m[k], em);
        ASSERT_EQ(v[k], ev);
        // torch.optim.Adam(W)'s formula in double.
        double w = param0[k], g = grad[k];
        if (decoupled)
          w *= 1 - p.lr * p.weight_decay;
        else
          g += p.weight_decay * w;
        const double mm = p.beta1 * m0[k] + (1 - p.beta1) * g,
                     vv = p.beta2 * v0[k] + (1 - p.beta2) * g * g;
        const double bc1 = 1 - std::pow(p.beta1, 3), bc2 = 1 - std::pow(p.beta2, 3);
        w -= p.lr / bc1 * mm / (std::sqrt(vv) / std::sqrt(bc2) + p.eps);
        expect_near_relative(param[k], w, "param", n, i);
        expect_near_relative(m[k], mm, "exp_avg", n, i);
        expect_near_relative(v[k], vv, "exp_avg_sq", n, i);
      }
    }
  }
}

TEST_P(OptimPaths, SgdMatchesFormulaWithAndWithoutMomentum) {
  struct Case {
    double momentum;
    bool nesterov, first_step;
  };
  for (Case cs : {Case{0, false, false}, Case{0.875, false, true}, Case{0.875, false, false},
                  Case{0.875, true, false}}) {
    const kernels::SgdParams p{0.125, cs.momentum, 0.125, 0.015625, cs.nesterov, cs.first_step};
    const SgdCoeffs<float> c(p);
    for (int64_t n : kPathLengths) {
      std::vector<float> param = random_values<float>(n, 5), grad = random_values<float>(n, 6),
                         buf = random_values<float>(n, 7);
      const std::vector<float> param0 = param, buf0 = buf;
      sgd_step<float>({{param.data(), grad.data(), cs.momentum != 0 ? buf.data() : nullptr, n}}, &c,
                      nullptr);
      for (int64_t i = 0; i < n; ++i) {
        const size_t k = size_t(i);
        double g = grad[k] + p.weight_decay * param0[k];
        if (p.momentum != 0) {
          const double b = cs.first_step ? g : p.momentum * buf0[k] + (1 - p.dampening) * g;
          expect_near_relative(buf[k], b, "momentum", n, i);
          g = cs.nesterov ? g + p.momentum * b : b;
        }
        expect_near_relative(param[k], param0[k] - p.lr * g, "param", n, i);
      }
    }
  }
}

TEST_P(OptimPaths, SkippedStepWritesNothing) {
  const AdamCoeffs<float> c(kernels::AdamParams{1e-2, 0.9, 0.999, 1e-8, 0, false, 1});
  std::vector<float> param(33, 1.f), grad(33, 1.f), m(33, 0.f), v(33, 0.f);
  const float skip = 1;
  adam_step<float>({{param.data(), grad.data(), m.data(), v.data(), 33}}, &c, &skip);
  for (float x : param) ASSERT_EQ(x, 1.f);
}

TEST_P(OptimPaths, NonFiniteCheckFindsEveryPositionAndUnscales) {
  for (int64_t n : kPathLengths) {
    if (n == 0) continue;
    // A clean buffer: unscaled, not flagged.
    std::vector<float> clean = random_values<float>(n, 8);
    const std::vector<float> clean0 = clean;
    float found = 0;
    non_finite_check_and_unscale<float>({clean.data()}, {n}, 0.25f, &found);
    ASSERT_EQ(found, 0.f) << "n " << n;
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(clean[size_t(i)], clean0[size_t(i)] * 0.25f);
    // One bad element, first, in the middle or last (the vector tail).
    for (int64_t at : {int64_t(0), n / 2, n - 1})
      for (float bad : {NAN, INFINITY, -INFINITY}) {
        std::vector<float> x = random_values<float>(n, 9), other = random_values<float>(7, 10);
        x[size_t(at)] = bad;
        found = 0;
        non_finite_check_and_unscale<float>({other.data(), x.data()}, {7, n}, 1.f, &found);
        ASSERT_EQ(found, 1.f) << "n " << n << ", bad at " << at;
      }
  }
}

TEST_P(OptimPaths, DoubleAdamMatchesElementUpdate) {
  const AdamCoeffs<double> c(kernels::AdamParams{1e-3, 0.9, 0.99, 1e-8, 0.1, true, 7});
  const int64_t n = 1000;
  std::vector<double> param = random_values<double>(n, 11), grad = random_values<double>(n, 12),
                      m(static_cast<size_t>(n), 0.1), v(static_cast<size_t>(n), 0.2);
  const std::vector<double> param0 = param;
  adam_step<double>({{param.data(), grad.data(), m.data(), v.data(), n}}, &c, nullptr);
  for (int64_t i = 0; i < n; ++i) {
    double ep = param0[size_t(i)], em = 0.1, ev = 0.2;
    kernels::adam_update(ep, grad[size_t(i)], em, ev, c);
    ASSERT_EQ(param[size_t(i)], ep) << i;
  }
}

DML_INSTANTIATE_ON_EVERY_ISA(OptimPaths);

}  // namespace
}  // namespace dml::cpu
