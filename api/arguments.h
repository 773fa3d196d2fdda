#pragma once
// The checks every entry point makes of its arguments before it does any
// work, each failing with DML_ERROR_INVALID_ARGUMENT and a message naming the
// argument and saying what to pass.
#include <cstddef>
#include <cstdint>

namespace dml::api {

// `what` is NULL: "<name> is NULL; pass <expected>".
void require_pointer(const void* pointer, const char* name, const char* expected);

// a * b, or INT64_MAX when it does not fit (sizes compared against limits).
int64_t saturating_mul(int64_t a, int64_t b);

// count * per_row as a size, refusing a product that does not fit.
size_t checked_elements(size_t count, int64_t per_row, const char* what);

// An output buffer of `capacity` floats that must hold count rows of dim.
void require_capacity(size_t capacity, size_t count, int64_t dim);

}  // namespace dml::api
