#include "kernels/cpu/random.h"

#include "base/parallel.h"
#include "base/philox.h"

namespace dml::cpu {

template <class T>
void fill_uniform(T* out, int64_t n, uint64_t seed, uint64_t first) {
  parallel_for(
      n, [&](int64_t i) { out[i] = uniform_value<T>(philox4x32_10(first + uint64_t(i), seed)); });
}

template <class T>
void fill_normal(T* out, int64_t n, uint64_t seed, uint64_t first) {
  parallel_for(
      n, [&](int64_t i) { out[i] = normal_value<T>(philox4x32_10(first + uint64_t(i), seed)); });
}

void fill_randint(int64_t* out, int64_t n, int64_t low, int64_t high, uint64_t seed,
                  uint64_t first) {
  const uint64_t span = uint64_t(high - low);
  parallel_for(n, [&](int64_t i) {
    out[i] = randint_value(philox4x32_10(first + uint64_t(i), seed), low, span);
  });
}

template <class T>
void fill_bernoulli(T* out, int64_t n, double p, uint64_t seed, uint64_t first) {
  parallel_for(n, [&](int64_t i) {
    out[i] = bernoulli_value<T>(philox4x32_10(first + uint64_t(i), seed), p);
  });
}

template void fill_uniform<float>(float*, int64_t, uint64_t, uint64_t);
template void fill_uniform<double>(double*, int64_t, uint64_t, uint64_t);
template void fill_normal<float>(float*, int64_t, uint64_t, uint64_t);
template void fill_normal<double>(double*, int64_t, uint64_t, uint64_t);
template void fill_bernoulli<float>(float*, int64_t, double, uint64_t, uint64_t);
template void fill_bernoulli<double>(double*, int64_t, double, uint64_t, uint64_t);

}  // namespace dml::cpu
