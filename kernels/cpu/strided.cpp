#include "kernels/cpu/strided.h"

#include <cstring>

namespace dml::cpu {

template <class T>
static void strided_copy_typed(const T* x, T* out, const std::vector<int64_t>& shape,
                               const std::vector<int64_t>& in_strides) {
  StridedLayout<1> L{shape, {in_strides}};
  for_each_strided(L, [&](int64_t i, const std::array<int64_t, 1>& o) { out[i] = x[o[0]]; });
}

void strided_copy(const void* x, void* out, const std::vector<int64_t>& shape,
                  const std::vector<int64_t>& in_strides, size_t elem_size) {
  switch (elem_size) {
    case 1:
      return strided_copy_typed((const uint8_t*)x, (uint8_t*)out, shape, in_strides);
    case 2:
      return strided_copy_typed((const uint16_t*)x, (uint16_t*)out, shape, in_strides);
    case 4:
      return strided_copy_typed((const uint32_t*)x, (uint32_t*)out, shape, in_strides);
    case 8:
      return strided_copy_typed((const uint64_t*)x, (uint64_t*)out, shape, in_strides);
  }
}

void copy_slab(const void* src, int64_t src_dim, int64_t src_start, void* dst, int64_t dst_dim,
               int64_t dst_start, int64_t outer, int64_t len, int64_t inner, size_t elem_size) {
  const size_t chunk = size_t(len * inner) * elem_size;
  if (chunk == 0) return;
  parallel_for(
      outer,
      [&](int64_t o) {
        const char* s = (const char*)src + size_t((o * src_dim + src_start) * inner) * elem_size;
        char* d = (char*)dst + size_t((o * dst_dim + dst_start) * inner) * elem_size;
        std::memcpy(d, s, chunk);
      },
      int64_t(kParallelGrain / (chunk / elem_size + 1)));
}

}  // namespace dml::cpu
