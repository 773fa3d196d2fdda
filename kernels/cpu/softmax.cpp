#include "kernels/cpu/softmax.h"

#include <cmath>

#include "base/parallel.h"

namespace dml::cpu {

template <class T>
void softmax(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log) {
  parallel_for(
      outer * inner,
      [&](int64_t oi) {
        int64_t o = oi / inner, i = oi % inner;
        const T* p = x + o * n * inner + i;
        T* q = y + o * n * inner + i;
        T m = p[0];
        for (int64_t j = 1; j < n; ++j) m = std::max(m, p[j * inner]);
        T sum = 0;
        for (int64_t j = 0; j < n; ++j) sum += std::exp(p[j * inner] - m);
        if (log) {
          T lse = m + std::log(sum);
          for (int64_t j = 0; j < n; ++j) q[j * inner] = p[j * inner] - lse;
        } else {
          for (int64_t j = 0; j < n; ++j) q[j * inner] = std::exp(p[j * inner] - m) / sum;
        }
      },
      kParallelGrain / (n + 1));
}

template <class T>
void softmax_backward(const T* g, const T* y, T* dx, int64_t outer, int64_t n, int64_t inner,
                      bool log) {
  parallel_for(
      outer * inner,
      [&](int64_t oi) {
        int64_t o = oi / inner, i = oi % inner, base = o * n * inner + i;
        T s = 0;
        for (int64_t j = 0; j < n; ++j) {
          int64_t e = base + j * inner;
          s += log ? g[e] : g[e] * y[e];
        }
        for (int64_t j = 0; j < n; ++j) {
          int64_t e = base + j * inner;
          dx[e] = log ? g[e] - std::exp(y[e]) * s : y[e] * (g[e] - s);
        }
      },
      kParallelGrain / (n + 1));
}

template void softmax<float>(const float*, float*, int64_t, int64_t, int64_t, bool);
template void softmax<double>(const double*, double*, int64_t, int64_t, int64_t, bool);
template void softmax_backward<float>(const float*, const float*, float*, int64_t, int64_t, int64_t,
                                      bool);
template void softmax_backward<double>(const double*, const double*, double*, int64_t, int64_t,
                                       int64_t, bool);

}  // namespace dml::cpu
