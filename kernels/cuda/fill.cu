#include <cstring>

#include "base/error.h"
#include "kernels/cuda/fill.h"
#include "kernels/cuda/grid.cuh"

namespace dml::cuda {

namespace {

template <class Word>
__global__ void fill_kernel(Word* dst, int64_t n, Word value) {
  DML_GRID_STRIDE_LOOP(i, n)
  dst[i] = value;
}

template <class Word>
void fill_words(void* dst, size_t n, uint64_t pattern, int device) {
  Word value;
  std::memcpy(&value, &pattern, sizeof(Word));  // the low bytes on a little-endian host
  grid::launch(fill_kernel<Word>, int64_t(n), device, static_cast<Word*>(dst), int64_t(n), value);
}

}  // namespace

void fill_pattern(void* dst, size_t n, size_t elem_bytes, uint64_t pattern, int device) {
  switch (elem_bytes) {
    case 1:
      return fill_words<uint8_t>(dst, n, pattern, device);
    case 2:
      return fill_words<uint16_t>(dst, n, pattern, device);
    case 4:
      return fill_words<uint32_t>(dst, n, pattern, device);
    case 8:
      return fill_words<uint64_t>(dst, n, pattern, device);
    default:
      throw Error(detail::concat("fill_pattern: elements of ", elem_bytes,
                                 " bytes; 1, 2, 4 or 8 are supported"));
  }
}

}  // namespace dml::cuda
