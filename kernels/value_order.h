#pragma once
// How reductions that select elements rank two values, shared by the CPU and
// CUDA kernels so both pick the same element: max/min (and argmax/argmin) and
// top-k. NaN ranks as the most extreme value, as in PyTorch, so a bad value is
// never hidden; among equals the lower index wins. C++17 and host/device
// annotated: .cu files include it.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "base/host_device.h"

namespace dml::kernels {

template <class T>
DML_HOST_DEVICE bool is_nan(T v) {
  return v != v;
}

// Whether v strictly beats the current best of a max (or min) scan: a NaN
// beats any number, nothing beats a NaN, equal values do not (the earlier
// index is kept).
template <class T>
DML_HOST_DEVICE bool beats(T v, T best, bool take_min) {
  if (is_nan(best)) return false;
  if (is_nan(v)) return true;
  return take_min ? v < best : v > best;
}

// Whether the candidate (v, j) replaces the current (best, best_j) of a max
// (or min) scan whose elements may arrive in any order (a GPU block merging
// its threads' partial results): it beats it, or it is its equal with a
// lower index. An index < 0 marks "no candidate". Merged in any order, the
// winner is the sequential scan's: the first NaN, else the first extreme.
template <class T>
DML_HOST_DEVICE bool replaces(T v, int64_t j, T best, int64_t best_j, bool take_min) {
  if (j < 0) return false;
  if (best_j < 0 || beats(v, best, take_min)) return true;
  return !beats(best, v, take_min) && j < best_j;
}

// Top-k's order as an unsigned key: a row sorted by ascending (key, index)
// lists the k largest (or smallest) values first, NaNs first when largest and
// last when smallest, -0 and +0 as equals, ties by index. One key serves the
// CPU's comparison sort and the GPU's radix sort.
template <class T>
using OrderKey = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;

template <class T>
DML_HOST_DEVICE OrderKey<T> order_key(T v, bool largest) {
  using K = OrderKey<T>;
  static_assert(sizeof(K) == sizeof(T), "order_key: float and key sizes differ");
  constexpr K kSign = K(1) << (8 * sizeof(K) - 1);
  if (is_nan(v)) return largest ? K(0) : ~K(0);
  if (v == T(0)) v = T(0);  // -0 sorts with +0
  K bits;
  std::memcpy(&bits, &v, sizeof bits);
  // Negative floats reverse their bit order; positive ones move above them.
  K ascending = (bits & kSign) ? ~bits : (bits | kSign);
  // A number's key never reaches the NaN key: ascending lies strictly between
  // 0 and ~0 (both are NaN bit patterns).
  return largest ? ~ascending : ascending;
}

}  // namespace dml::kernels
