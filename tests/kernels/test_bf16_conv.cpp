// bf16 convolutions on every instruction-set path (isa_paths.h): forward,
// backward data and backward filter (with the bias gradient) against a
// double-precision loop over the same bf16 operands. Each element is within
// the f32-accumulation bound of the exact sum (gemm_reference.h's argument,
// over the terms that element sums) plus one rounding to bf16: results are
// accumulated in f32 (the filter gradient over every chunk of images) and
// rounded once. Shapes cover padding, stride, dilation, groups, pointwise
// kernels, n = 1, odd channel counts (an odd GEMM k), a product large enough
// for threads, and a batch of images split into two GEMM chunks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "base/dtype.h"
#include "kernels/conv_shape.h"
#include "kernels/cpu/conv2d.h"
#include "tests/kernels/conv_reference.h"
#include "tests/kernels/isa_paths.h"

namespace {

using dml::bf16;
using dml::kernels::ConvShape;

class Bf16Conv : public dml::test::IsaPathTest {};

using dml::test::Sums;

// got[i] against want + extra[i] (extra: the bias, or none): within the f32
// bound of a sum of `terms` terms, then one bf16 rounding.
void expect_within(const char* what, const ConvShape& s, const std::vector<bf16>& got,
                   const Sums& want, int64_t terms, const std::vector<double>& extra = {}) {
  const double eps32 = std::ldexp(1.0, -23);
  int64_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double b = extra.empty() ? 0.0 : extra[i];
    const double exact = want.value[i] + b;
    const double f32 = double(terms + 2) * eps32 * (want.magnitude[i] + std::fabs(b));
    const double bound = f32 + std::ldexp(std::fabs(exact) + f32, -8);
    const double value = dml::to_float(got[i]);
    if (!(std::fabs(value - exact) <= bound) && bad++ < 5)
      ADD_FAILURE() << what << " [" << i << "] = " << value << ", want " << exact << " +- " << bound
                    << " (n " << s.n << " c " << s.c << " o " << s.o << ")";
  }
  EXPECT_EQ(bad, 0) << what;
}

std::vector<bf16> random_bf16(int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<bf16> out(static_cast<size_t>(n));
  for (bf16& v : out) v = dml::to_bf16(u(rng));
  return out;
}

ConvShape shape(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t kh, int64_t kw,
                int64_t stride, int64_t pad_h, int64_t pad_w, int64_t dil_h, int64_t dil_w,
                int64_t groups) {
  return {n, c, h, w, o, kh, kw, stride, stride, pad_h, pad_w, dil_h, dil_w, groups};
}

TEST_P(Bf16Conv, ForwardAndBothBackwardsWithinF32AccumulationAndOneRounding) {
  const ConvShape shapes[] = {
      shape(2, 3, 9, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1),   // padding, odd sizes
      shape(1, 6, 8, 8, 4, 3, 2, 2, 1, 0, 1, 2, 2),   // stride, dilation, groups, n = 1
      shape(3, 8, 5, 5, 17, 1, 1, 1, 0, 0, 1, 1, 1),  // pointwise, several images
      shape(1, 8, 5, 5, 6, 1, 1, 1, 0, 0, 1, 1, 2),   // pointwise, one image, groups
      // Pointwise on planes of 256 and more: per image, the tensors in place.
      shape(2, 24, 16, 17, 40, 1, 1, 1, 0, 0, 1, 1, 2),
      shape(1, 4, 6, 6, 6, 5, 5, 1, 2, 2, 1, 1, 2),      // wide kernel, groups
      shape(4, 17, 11, 13, 33, 3, 3, 1, 1, 1, 1, 1, 1),  // odd k (153), threads
      // Two chunks of images (28 and 2), few positions: the bound stays
      // tight enough to see a chunk's filter gradient lost.
      shape(30, 512, 8, 8, 2, 3, 3, 1, 1, 1, 1, 1, 1)};
  std::mt19937 rng(11);
  for (const ConvShape& s : shapes) {
    const std::vector<bf16> x = random_bf16(s.input_size(), rng),
                            w = random_bf16(s.weight_size(), rng), bias = random_bf16(s.o, rng),
                            dy = random_bf16(s.output_size(), rng);
    const dml::test::ConvSums r = dml::test::conv_sums(s, x, w, dy);
    const int64_t cg = s.c / s.groups, og = s.o / s.groups;

    std::vector<bf16> y(size_t(s.output_size()));
    dml::cpu::conv2d_forward<bf16>(s, x.data(), w.data(), bias.data(), y.data());
    std::vector<double> bias_of_y(y.size());
    for (size_t i = 0; i < y.size(); ++i)
      bias_of_y[i] = dml::to_float(bias[(i / size_t(s.out_h() * s.out_w())) % size_t(s.o)]);
    expect_within("y", s, y, r.y, cg * s.kh * s.kw, bias_of_y);

    std::vector<bf16> dx(size_t(s.input_size()));
    dml::cpu::conv2d_backward_data<bf16>(s, dy.data(), w.data(), dx.data());
    expect_within("dx", s, dx, r.dx, og * s.kh * s.kw);

    std::vector<bf16> dw(size_t(s.weight_size())), db(size_t(s.o));
    dml::cpu::conv2d_backward_filter<bf16>(s, x.data(), dy.data(), dw.data(), db.data());
    const int64_t positions = s.n * s.out_h() * s.out_w();
    expect_within("dw", s, dw, r.dw, positions);
    expect_within("db", s, db, r.db, positions);
  }
}

DML_INSTANTIATE_ON_EVERY_ISA(Bf16Conv);

}  // namespace
