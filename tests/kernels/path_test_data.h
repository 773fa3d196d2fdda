#pragma once
// Inputs for the per-path kernel tests: lengths that leave every vector
// width a tail (and one long enough to run on several threads, in chunks),
// and random values with the IEEE special cases mixed in.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace dml::test {

// 0, 1, around one and two vectors of 16 floats, and past the parallel grain.
inline const std::vector<int64_t> kPathLengths = {0, 1, 15, 16, 17, 33, 1000, 40000};

// n values ~ N(0, 1); with `specials`, every 7th one is NaN, +-inf, +-0, a
// denormal or the largest finite float, in turn.
template <class T>
std::vector<T> random_values(int64_t n, uint32_t seed, bool specials = false) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<T> v(static_cast<size_t>(n));
  const T special[] = {std::numeric_limits<T>::quiet_NaN(),
                       std::numeric_limits<T>::infinity(),
                       -std::numeric_limits<T>::infinity(),
                       T(0),
                       -T(0),
                       std::numeric_limits<T>::denorm_min(),
                       -std::numeric_limits<T>::denorm_min(),
                       std::numeric_limits<T>::max()};
  for (int64_t i = 0; i < n; ++i)
    v[size_t(i)] = specials && i % 7 == 3 ? special[(i / 7) % 8] : T(normal(rng));
  return v;
}

// Whether a and b are the same value: equal bits, or both NaN.
template <class T>
bool same_value(T a, T b) {
  return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b));
}

}  // namespace dml::test
