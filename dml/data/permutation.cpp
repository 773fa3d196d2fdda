#include "dml/data/permutation.h"

#include <numeric>
#include <utility>

#include "base/error.h"

namespace dml::data {

namespace {

// 64 random bits from counter `c`: for any n a dataset has, the modulo bias
// of bits % n is negligible.
uint64_t random_bits(uint64_t c, const Generator& gen) {
  PhiloxBlock r = philox4x32_10(c, gen.seed());
  return (uint64_t(r[0]) << 32) | r[1];
}

}  // namespace

std::vector<int64_t> random_permutation(int64_t n, Generator& gen) {
  DML_CHECK(n >= 0, "random_permutation: n = ", n, " must be >= 0");
  std::vector<int64_t> order(size_t(n), 0);
  std::iota(order.begin(), order.end(), int64_t{0});
  const uint64_t first = gen.reserve(uint64_t(n));
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(order[size_t(i)],
              order[size_t(random_bits(first + uint64_t(i), gen) % uint64_t(i + 1))]);
  return order;
}

int64_t random_index(int64_t n, Generator& gen) {
  DML_CHECK(n >= 1, "random_index: n = ", n, " must be >= 1");
  return int64_t(random_bits(gen.reserve(1), gen) % uint64_t(n));
}

}  // namespace dml::data
