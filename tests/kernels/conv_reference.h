#pragma once
// What the convolution kernel tests share: every multiply-add of a
// convolution by its definition, summed in double with the sum of the terms'
// magnitudes beside it (the scale of an f32 summation's error bound,
// gemm_reference.h's argument), for f32 and bf16 operands.
#include <cmath>
#include <cstdint>
#include <vector>

#include "base/dtype.h"
#include "kernels/conv_shape.h"

namespace dml::test {

// Sums in double and the sums of their terms' magnitudes.
struct Sums {
  std::vector<double> value, magnitude;
  explicit Sums(int64_t n) : value(size_t(n)), magnitude(size_t(n)) {}
  void add(int64_t at, double term) {
    value[size_t(at)] += term;
    magnitude[size_t(at)] += std::fabs(term);
  }
};

// Calls f(y_index, x_index, w_index) for every multiply-add of the
// convolution: y[n, o, oy, ox] meets x[n, g*cg + c, iy, ix] through w[o, c, i, j].
template <class F>
void for_each_conv_term(const kernels::ConvShape& s, F&& f) {
  const int64_t oh = s.out_h(), ow = s.out_w(), cg = s.c / s.groups, og = s.o / s.groups;
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t o = 0; o < s.o; ++o)
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox)
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t i = 0; i < s.kh; ++i)
              for (int64_t j = 0; j < s.kw; ++j) {
                const int64_t iy = oy * s.stride_h - s.pad_h + i * s.dil_h,
                              ix = ox * s.stride_w - s.pad_w + j * s.dil_w;
                if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
                const int64_t xc = o / og * cg + c;
                f(((n * s.o + o) * oh + oy) * ow + ox, ((n * s.c + xc) * s.h + iy) * s.w + ix,
                  ((o * cg + c) * s.kh + i) * s.kw + j);
              }
}

inline double as_double(float v) {
  return v;
}
inline double as_double(bf16 v) {
  return to_float(v);
}

// The exact y = conv(x, w) (no bias), dx, dw and the bias gradient db for
// the output gradient dy.
struct ConvSums {
  Sums y, dx, dw, db;
  explicit ConvSums(const kernels::ConvShape& s)
      : y(s.output_size()), dx(s.input_size()), dw(s.weight_size()), db(s.o) {}
};

template <class T>
ConvSums conv_sums(const kernels::ConvShape& s, const std::vector<T>& x, const std::vector<T>& w,
                   const std::vector<T>& dy) {
  ConvSums r(s);
  for_each_conv_term(s, [&](int64_t yi, int64_t xi, int64_t wi) {
    const double xv = as_double(x[size_t(xi)]), wv = as_double(w[size_t(wi)]),
                 g = as_double(dy[size_t(yi)]);
    r.y.add(yi, xv * wv);
    r.dx.add(xi, g * wv);
    r.dw.add(wi, g * xv);
  });
  const int64_t ohw = s.out_h() * s.out_w();
  for (int64_t e = 0; e < s.output_size(); ++e) r.db.add(e / ohw % s.o, as_double(dy[size_t(e)]));
  return r;
}

}  // namespace dml::test
