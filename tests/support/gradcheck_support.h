#pragma once
// Gradient checks for code built from many ops (losses, layers): computed
// tensors (gradients, mostly) against reference tensors, and central
// differences of a scalar f64 function of some leaf tensors against the
// gradients backward() accumulates in them.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace dml::test {

// got against want elementwise, in f64: |got - want| <= atol + rtol |want|.
// An undefined got (a gradient that never arrived) fails.
inline void expect_tensor_near(const Tensor& got, const Tensor& want, double atol, double rtol,
                               const std::string& what) {
  ASSERT_TRUE(got.defined()) << what << ": undefined (no gradient reached it)";
  ASSERT_EQ(got.shape(), want.shape()) << what;
  const std::vector<double> g = got.to(DType::f64).to_vector<double>();
  const std::vector<double> w = want.to(DType::f64).to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i)
    EXPECT_NEAR(g[i], w[i], atol + rtol * std::abs(w[i])) << what << " element " << i;
}

struct GradCheckTolerance {
  double eps = 1e-6;   // central-difference step
  double atol = 1e-7;  // |analytic - numeric| <= atol + rtol |numeric|
  double rtol = 1e-6;
};

// f: computes the scalar from the current values of `leaves` (f64 tensors
// that require grad; they are perturbed in place and restored).
inline void expect_gradients_match(const std::function<Tensor()>& f,
                                   const std::vector<Tensor>& leaves, const std::string& what,
                                   GradCheckTolerance tol = {}) {
  for (const Tensor& leaf : leaves) {
    ASSERT_EQ(leaf.dtype(), DType::f64) << what << ": gradient checks run in f64";
    ASSERT_TRUE(leaf.requires_grad()) << what;
    leaf.zero_grad();
  }
  f().backward();
  for (size_t i = 0; i < leaves.size(); ++i) {
    const Tensor& leaf = leaves[i];
    ASSERT_TRUE(leaf.grad().defined()) << what << ": no gradient reached leaf " << i;
    const std::vector<double> analytic = leaf.grad().to_vector<double>();
    double* x = leaf.data<double>();
    for (int64_t e = 0; e < leaf.numel(); ++e) {
      NoGradGuard no_grad;
      const double saved = x[e];
      x[e] = saved + tol.eps;
      const double plus = f().item();
      x[e] = saved - tol.eps;
      const double minus = f().item();
      x[e] = saved;
      const double numeric = (plus - minus) / (2 * tol.eps);
      EXPECT_NEAR(analytic[size_t(e)], numeric, tol.atol + tol.rtol * std::abs(numeric))
          << what << ": leaf " << i << " element " << e;
    }
  }
}

}  // namespace dml::test
