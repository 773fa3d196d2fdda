#pragma once
// Activation storage vs arithmetic: a kernel templated on the type S its
// activations are stored in computes in math_t<S>, which is S itself for
// f32 and f64 and f32 for bf16 (bf16 is a storage type only: widened on
// load, exactly, and rounded to nearest even once on store). For S = f32 or
// f64, load and store are the identity, so a kernel written with them
// compiles to exactly what it was before they existed. C++17, host/device:
// the CPU and CUDA kernels share it.
#include <type_traits>

#include "base/dtype.h"
#include "base/host_device.h"

namespace dml::kernels {

template <class S>
struct MathType {
  using type = S;
};
template <>
struct MathType<bf16> {
  using type = float;
};
template <class S>
using math_t = typename MathType<S>::type;

// A GEMM's alpha and beta: the arithmetic type of its operands.
template <class T>
using gemm_scalar_t = math_t<T>;

// A stored activation as a value to compute with (exact).
template <class S>
DML_HOST_DEVICE inline math_t<S> load(S v) {
  if constexpr (std::is_same_v<S, bf16>)
    return to_float(v);
  else
    return v;
}

// A computed value to store as S: rounded once (to nearest even) for bf16.
template <class S>
DML_HOST_DEVICE inline S store(math_t<S> v) {
  if constexpr (std::is_same_v<S, bf16>)
    return to_bf16(v);
  else
    return v;
}

}  // namespace dml::kernels
