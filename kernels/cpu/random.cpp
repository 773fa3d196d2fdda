#include "kernels/cpu/random.h"

#include <cmath>

#include "engine/rng.h"
#include "kernels/cpu/parallel.h"

namespace dml::cpu {

template <class T>
void fill_uniform(T* out, int64_t n, uint64_t seed, uint64_t first) {
  parallel_for(n, [&](int64_t i) {
    PhiloxBlock r = philox4x32_10(first + uint64_t(i), seed);
    if constexpr (sizeof(T) == 4)
      out[i] = uniform_f32(r[0]);
    else
      out[i] = uniform_f64(r[0], r[1]);
  });
}

template <class T>
void fill_normal(T* out, int64_t n, uint64_t seed, uint64_t first) {
  parallel_for(n, [&](int64_t i) {
    PhiloxBlock r = philox4x32_10(first + uint64_t(i), seed);
    // 1 - u keeps the log argument in (0, 1].
    double u1 = 1.0 - uniform_f64(r[0], r[1]), u2 = uniform_f64(r[2], r[3]);
    out[i] = T(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
  });
}

void fill_randint(int64_t* out, int64_t n, int64_t low, int64_t high, uint64_t seed,
                  uint64_t first) {
  const uint64_t span = uint64_t(high - low);
  parallel_for(n, [&](int64_t i) {
    PhiloxBlock r = philox4x32_10(first + uint64_t(i), seed);
    uint64_t bits = (uint64_t(r[0]) << 32) | r[1];
    out[i] = low + int64_t(bits % span);  // bias below 2^-32 for spans under 2^32
  });
}

template void fill_uniform<float>(float*, int64_t, uint64_t, uint64_t);
template void fill_uniform<double>(double*, int64_t, uint64_t, uint64_t);
template void fill_normal<float>(float*, int64_t, uint64_t, uint64_t);
template void fill_normal<double>(double*, int64_t, uint64_t, uint64_t);

}  // namespace dml::cpu
