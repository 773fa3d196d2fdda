#include "kernels/cpu/reduce.h"

#include "base/parallel.h"
#include "kernels/cpu/parallel_isa.h"
#include "kernels/value_order.h"

namespace dml::cpu {

namespace {

// Sums of the rows [begin, end) of x (n elements each). `simd` lets each
// path's vector width order the sum its own way: the paths differ here by
// summation order.
template <class T>
DML_ISA_BODY void sum_rows(int64_t begin, int64_t end, const T* x, T* y, int64_t n) {
  for (int64_t o = begin; o < end; ++o) {
    const T* row = x + o * n;
    T acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int64_t j = 0; j < n; ++j) acc += row[j];
    y[o] = acc;
  }
}

// The same with inner > 1: whole inner rows accumulated, so reads stay
// sequential and every path adds in the same order.
template <class T>
DML_ISA_BODY void sum_inner_rows(int64_t begin, int64_t end, const T* x, T* y, int64_t n,
                                 int64_t inner) {
  for (int64_t o = begin; o < end; ++o) {
    T* out = y + o * inner;
    for (int64_t i = 0; i < inner; ++i) out[i] = 0;
    for (int64_t j = 0; j < n; ++j) {
      const T* row = x + (o * n + j) * inner;
      for (int64_t i = 0; i < inner; ++i) out[i] += row[i];
    }
  }
}

}  // namespace

template <class T>
void reduce_sum(const T* x, T* y, int64_t outer, int64_t n, int64_t inner) {
  if (inner == 1)
    parallel_rows_isa<sum_rows<T>>(outer, n, x, y, n);
  else
    parallel_rows_isa<sum_inner_rows<T>>(outer, n * inner, x, y, n, inner);
}

template <class T>
void reduce_max(const T* x, T* y, int64_t* index, int64_t outer, int64_t n, int64_t inner,
                bool take_min) {
  parallel_for(
      outer * inner,
      [&](int64_t oi) {
        int64_t o = oi / inner, i = oi % inner;
        const T* p = x + o * n * inner + i;
        T best = p[0];
        int64_t best_j = 0;
        for (int64_t j = 1; j < n; ++j) {
          T v = p[j * inner];
          if (kernels::beats(v, best, take_min)) {
            best = v;
            best_j = j;
          }
        }
        if (y) y[oi] = best;
        if (index) index[oi] = best_j;
      },
      kParallelGrain / (n + 1));
}

template void reduce_sum<float>(const float*, float*, int64_t, int64_t, int64_t);
template void reduce_sum<double>(const double*, double*, int64_t, int64_t, int64_t);
template void reduce_max<float>(const float*, float*, int64_t*, int64_t, int64_t, int64_t, bool);
template void reduce_max<double>(const double*, double*, int64_t*, int64_t, int64_t, int64_t, bool);

}  // namespace dml::cpu
