#include "kernels/cpu/topk.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "base/parallel.h"
#include "kernels/value_order.h"

namespace dml::cpu {

template <class T>
void topk(const T* x, T* values, int64_t* indices, int64_t rows, int64_t n, int64_t k,
          bool largest) {
  parallel_for(
      rows,
      [&](int64_t r) {
        const T* row = x + r * n;
        std::vector<int64_t> order(n);
        std::iota(order.begin(), order.end(), 0);
        // The order the CUDA kernel's radix sort follows (kernels/value_order.h).
        auto before = [&](int64_t a, int64_t b) {
          auto ka = kernels::order_key(row[a], largest), kb = kernels::order_key(row[b], largest);
          return ka != kb ? ka < kb : a < b;
        };
        std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
        for (int64_t j = 0; j < k; ++j) {
          values[r * k + j] = row[order[j]];
          indices[r * k + j] = order[j];
        }
      },
      kParallelGrain / (n + 1));
}

template void topk<float>(const float*, float*, int64_t*, int64_t, int64_t, int64_t, bool);
template void topk<double>(const double*, double*, int64_t*, int64_t, int64_t, int64_t, bool);

}  // namespace dml::cpu
