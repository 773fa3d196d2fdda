#include "dml/data/permutation.h"

#include <numeric>
#include <utility>

#include "engine/error.h"

namespace dml::data {

std::vector<int64_t> random_permutation(int64_t n, Generator& gen) {
  DML_CHECK(n >= 0, "random_permutation: n = ", n, " must be >= 0");
  std::vector<int64_t> order(size_t(n), 0);
  std::iota(order.begin(), order.end(), int64_t{0});
  const uint64_t first = gen.reserve(uint64_t(n));
  for (int64_t i = n - 1; i > 0; --i) {
    // 64 random bits: for any n a dataset has, the modulo bias is negligible.
    PhiloxBlock r = philox4x32_10(first + uint64_t(i), gen.seed());
    uint64_t bits = (uint64_t(r[0]) << 32) | r[1];
    std::swap(order[size_t(i)], order[size_t(bits % uint64_t(i + 1))]);
  }
  return order;
}

}  // namespace dml::data
