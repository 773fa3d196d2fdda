#pragma once
#include <cstddef>
#include <cstdint>

namespace dml::cuda {

// Sets n elements of 4 bytes to the bit pattern `value` (a float, an int32).
void fill32(void* dst, size_t n, uint32_t value, int device);

}  // namespace dml::cuda
