#include "kernels/cpu/index.h"

#include <cstring>

#include "base/parallel.h"

namespace dml::cpu {

template <class T>
void index_select(const T* x, const int64_t* index, T* out, int64_t outer, int64_t n, int64_t k,
                  int64_t inner) {
  parallel_for(
      outer * k,
      [&](int64_t ok) {
        int64_t o = ok / k, j = ok % k;
        std::memcpy(out + ok * inner, x + (o * n + index[j]) * inner, sizeof(T) * inner);
      },
      kParallelGrain / (inner + 1));
}

template <class T>
void index_add(T* x, const int64_t* index, const T* src, int64_t outer, int64_t n, int64_t k,
               int64_t inner) {
  // Parallel over outer only: repeated indices within one o would race.
  parallel_for(
      outer,
      [&](int64_t o) {
        for (int64_t j = 0; j < k; ++j) {
          T* dst = x + (o * n + index[j]) * inner;
          const T* s = src + (o * k + j) * inner;
          for (int64_t i = 0; i < inner; ++i) dst[i] += s[i];
        }
      },
      kParallelGrain / (k * inner + 1));
}

template <class T>
void gather(const T* x, const int64_t* index, T* out, int64_t outer, int64_t n, int64_t k,
            int64_t inner) {
  parallel_for(outer * k * inner, [&](int64_t e) {
    int64_t i = e % inner, o = e / (k * inner);
    out[e] = x[(o * n + index[e]) * inner + i];
  });
}

template <class T>
void scatter_add(T* x, const int64_t* index, const T* src, int64_t outer, int64_t n, int64_t k,
                 int64_t inner) {
  parallel_for(
      outer,
      [&](int64_t o) {
        for (int64_t j = 0; j < k; ++j)
          for (int64_t i = 0; i < inner; ++i) {
            int64_t e = (o * k + j) * inner + i;
            x[(o * n + index[e]) * inner + i] += src[e];
          }
      },
      kParallelGrain / (k * inner + 1));
}

template <class T>
void one_hot(const int64_t* labels, T* out, int64_t rows, int64_t classes) {
  for (int64_t r = 0; r < rows; ++r) out[r * classes + labels[r]] = T(1);
}

int64_t find_out_of_range(const int64_t* index, int64_t count, int64_t n) {
  for (int64_t i = 0; i < count; ++i)
    if (index[i] < 0 || index[i] >= n) return i;
  return -1;
}

#define DML_INSTANTIATE(T)                                                                         \
  template void index_select<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t); \
  template void index_add<T>(T*, const int64_t*, const T*, int64_t, int64_t, int64_t, int64_t);    \
  template void gather<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t);       \
  template void scatter_add<T>(T*, const int64_t*, const T*, int64_t, int64_t, int64_t, int64_t);  \
  template void one_hot<T>(const int64_t*, T*, int64_t, int64_t);
DML_INSTANTIATE(float)
DML_INSTANTIATE(double)
DML_INSTANTIATE(int64_t)
#undef DML_INSTANTIATE

}  // namespace dml::cpu
