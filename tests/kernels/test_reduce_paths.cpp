// reduce_sum (kernels/cpu/reduce.h) on every instruction-set path against a
// sum in double, over the middle axis of [outer, n, inner] views: rows
// (inner 1, summed in each path's own order) and whole inner rows, lengths
// that leave every vector width a tail, infinities and NaN carried through.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/reduce.h"
#include "tests/kernels/isa_paths.h"
#include "tests/kernels/path_test_data.h"

namespace dml::cpu {
namespace {

class ReducePaths : public test::IsaPathTest {};

template <class T>
void check_sum(bool specials) {
  for (int64_t outer : {1, 3})
    for (int64_t n : test::kPathLengths)
      for (int64_t inner : {1, 5, 17}) {
        if (n * inner > 100000) continue;
        const std::vector<T> x = test::random_values<T>(outer * n * inner, 1, specials);
        std::vector<T> y(static_cast<size_t>(outer * inner) + 1, T(42));
        reduce_sum<T>(x.data(), y.data(), outer, n, inner);
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t i = 0; i < inner; ++i) {
            double want = 0, magnitude = 0;
            for (int64_t j = 0; j < n; ++j) {
              const double v = x[size_t((o * n + j) * inner + i)];
              want += v;
              magnitude += std::fabs(v);
            }
            const double got = y[size_t(o * inner + i)];
            const double eps = std::numeric_limits<T>::epsilon();
            if (std::isfinite(want))
              ASSERT_NEAR(got, want, 2 * eps * magnitude)
                  << "outer " << o << ", n " << n << ", inner " << i;
            else  // an infinity, or NaN (inf - inf, or a NaN term)
              ASSERT_TRUE(test::same_value(got, want) || (std::isnan(got) && std::isnan(want)))
                  << "n " << n << ": " << got << " want " << want;
          }
        ASSERT_EQ(y.back(), T(42)) << "wrote past the end";
      }
}

TEST_P(ReducePaths, SumF32) {
  check_sum<float>(false);
}
TEST_P(ReducePaths, SumF64) {
  check_sum<double>(false);
}
TEST_P(ReducePaths, SumWithInfinitiesAndNaN) {
  check_sum<float>(true);
}

DML_INSTANTIATE_ON_EVERY_ISA(ReducePaths);

}  // namespace
}  // namespace dml::cpu
