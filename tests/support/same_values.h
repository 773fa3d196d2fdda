#pragma once
// Exact elementwise equality of two tensors of one dtype and shape, for the
// tests whose references are bit-exact (bf16 widens to f64 exactly, so
// comparing the widened values compares the bits; NaN never equals).
#include <gtest/gtest.h>

#include <vector>

#include "engine/tensor.h"

namespace dml::test {

inline ::testing::AssertionResult same_values(const Tensor& got, const Tensor& want) {
  if (got.dtype() != want.dtype() || got.shape() != want.shape())
    return ::testing::AssertionFailure() << describe(got) << " vs " << describe(want);
  const std::vector<double> g = got.detach().to(DType::f64).to_vector<double>();
  const std::vector<double> w = want.detach().to(DType::f64).to_vector<double>();
  int64_t differ = 0;
  size_t first = 0;
  for (size_t i = 0; i < g.size(); ++i)
    if (!(g[i] == w[i]) && differ++ == 0) first = i;
  if (differ == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << differ << " elements of " << describe(want) << " differ; first " << first << ": "
         << g[first] << " vs " << w[first];
}

}  // namespace dml::test
