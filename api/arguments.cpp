#include "api/arguments.h"

#include <limits>

#include "api/status.h"

namespace dml::api {

void require_pointer(const void* pointer, const char* name, const char* expected) {
  DML_API_CHECK(pointer != nullptr, DML_ERROR_INVALID_ARGUMENT, name, " is NULL; pass ", expected);
}

int64_t saturating_mul(int64_t a, int64_t b) {
  int64_t product = 0;
  return __builtin_mul_overflow(a, b, &product) ? std::numeric_limits<int64_t>::max() : product;
}

size_t checked_elements(size_t count, int64_t per_row, const char* what) {
  size_t product = 0;
  DML_API_CHECK(!__builtin_mul_overflow(count, size_t(per_row), &product) &&
                    product <= size_t(std::numeric_limits<int64_t>::max()),
                DML_ERROR_INVALID_ARGUMENT, "count ", count, " x ", per_row, " ", what,
                " does not fit in memory; pass fewer rows per call");
  return product;
}

void require_capacity(size_t capacity, size_t count, int64_t dim) {
  const size_t needed = checked_elements(count, dim, "floats of embeddings");
  DML_API_CHECK(capacity >= needed, DML_ERROR_INVALID_ARGUMENT, "capacity ", capacity,
                " is less than count x embedding_dim = ", count, " x ", dim, " = ", needed,
                "; pass an embeddings buffer of at least that many floats");
}

}  // namespace dml::api
