// The normal transform's own log and cos (kernels/philox.h), which the CPU and
// CUDA fills share so both draw identical values, against the C library's:
// they must be as accurate, or randn would drift from N(0, 1). Runs on the
// host alone.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace dml {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();  // 2^-52

// Over the uniforms the fills draw (multiples of 2^-53 in (0, 1]) and the
// edges: within 2 ulps of std::log (which is itself within an ulp).
TEST(RandomTransforms, LogIsWithinTwoUlps) {
  auto check = [](double u) {
    double want = std::log(u), got = portable_log(u);
    EXPECT_LE(std::abs(got - want), 2 * kEps * std::abs(want) + 1e-300) << "u = " << u;
  };
  for (double u : {1.0, 1.0 - kEps / 2, 0.5, 0.70710678118654752440, 0.7071067811865476, 0x1p-53,
                   3 * 0x1p-53, 0.25 + kEps, 0.999})
    check(u);
  for (uint64_t i = 0; i < 200000; ++i) {
    PhiloxBlock r = philox4x32_10(i, 99);
    check(1.0 - uniform_f64(r[0], r[1]));
    check(std::ldexp(1.0 - uniform_f64(r[2], r[3]), -int(r[0] % 60)));  // small arguments
  }
  EXPECT_EQ(portable_log(1.0), 0.0);
}

// cos(2 pi u): std::cos(2 pi u) rounds 2 pi u first (up to 2 pi * 2^-53 =
// 7e-16 off in the angle), so the bound is absolute, 2e-15.
TEST(RandomTransforms, CosOfTurnsMatchesTheLibrary) {
  auto check = [](double u) {
    double want = std::cos(6.283185307179586 * u), got = portable_cos_2pi(u);
    EXPECT_LE(std::abs(got - want), 2e-15) << "u = " << u;
  };
  for (double u : {0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0 - kEps / 2, 0x1p-53})
    check(u);
  for (uint64_t i = 0; i < 200000; ++i) {
    PhiloxBlock r = philox4x32_10(i, 7);
    check(uniform_f64(r[0], r[1]));
  }
  EXPECT_EQ(portable_cos_2pi(0.0), 1.0);
  EXPECT_EQ(portable_cos_2pi(0.5), -1.0);
}

// randn is this transform of block offset + i, element by element.
TEST(RandomTransforms, RandnIsTheSharedTransform) {
  Generator gen(5);
  gen.set_state({5, 1001});
  Tensor x = randn({257}, DType::f64, &gen);
  const double* p = x.data<double>();
  for (int64_t i = 0; i < 257; ++i)
    ASSERT_EQ(p[i], normal_f64(philox4x32_10(1001 + uint64_t(i), 5))) << i;
  EXPECT_EQ(gen.state().offset, 1001u + 257u);
}

}  // namespace
}  // namespace dml
