#pragma once
// Element types. f32 is the default; f64 serves gradient checks on the CPU;
// bf16/f16 are storage types for GPU mixed precision (bf16 is also computed
// by conv2d, matmul and linear: engine/autocast.h); i32/i64 hold labels and
// indices; u8 holds pixels and boolean masks (comparisons return u8).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "base/host_device.h"

namespace dml {

enum class DType : uint8_t { f32, f64, bf16, f16, i32, i64, u8 };

size_t dtype_size(DType t);
const char* dtype_name(DType t);
inline bool is_floating(DType t) {
  return t == DType::f32 || t == DType::f64 || t == DType::bf16 || t == DType::f16;
}

// 16-bit float storage: conversion only, arithmetic happens in f32.
struct bf16 {
  uint16_t bits;
};
struct f16 {
  uint16_t bits;
};
// Conversions round to nearest even; NaN stays NaN, f16 overflow becomes inf.
// Host and device share them: a CUDA cast rounds exactly as the CPU one.
DML_HOST_DEVICE inline uint32_t float_bits(float v) {
  uint32_t b;
  std::memcpy(&b, &v, 4);
  return b;
}
DML_HOST_DEVICE inline float bits_float(uint32_t b) {
  float v;
  std::memcpy(&v, &b, 4);
  return v;
}

DML_HOST_DEVICE inline float to_float(bf16 v) {
  return bits_float(uint32_t(v.bits) << 16);
}

DML_HOST_DEVICE inline bf16 to_bf16(float v) {
  uint32_t b = float_bits(v);
  if ((b & 0x7fffffffu) > 0x7f800000u) return bf16{uint16_t((b >> 16) | 0x40)};  // quiet NaN
  b += 0x7fffu + ((b >> 16) & 1u);
  return bf16{uint16_t(b >> 16)};
}

DML_HOST_DEVICE inline float to_float(f16 v) {
  uint32_t sign = uint32_t(v.bits & 0x8000u) << 16;
  uint32_t exp = (v.bits >> 10) & 0x1fu;
  uint32_t man = v.bits & 0x3ffu;
  if (exp == 0x1f) return bits_float(sign | 0x7f800000u | (man << 13));
  if (exp == 0) {
    if (man == 0) return bits_float(sign);
    // Subnormal half: value = man * 2^-24.
    float f = float(man) * 5.9604644775390625e-8f;
    return sign ? -f : f;
  }
  return bits_float(sign | ((exp + 112u) << 23) | (man << 13));
}

DML_HOST_DEVICE inline f16 to_f16(float v) {
  uint32_t b = float_bits(v);
  uint16_t sign = uint16_t((b >> 16) & 0x8000u);
  uint32_t abs = b & 0x7fffffffu;
  if (abs > 0x7f800000u) return f16{uint16_t(sign | 0x7e00u)};
  if (abs >= 0x477ff000u) return f16{uint16_t(sign | 0x7c00u)};  // rounds to >= 65520: inf
  if (abs < 0x38800000u) {
    // Result is subnormal or zero: scale into integer units of 2^-24 and round to even.
    float a = bits_float(abs) * 16777216.0f;
    float r = a - float(int(a)) == 0.5f ? float(int(a) + (int(a) & 1)) : float(int(a + 0.5f));
    return f16{uint16_t(sign | uint16_t(r))};
  }
  uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
  return f16{uint16_t(sign | ((rounded - 0x38000000u) >> 13))};
}

template <class T>
struct dtype_of;
template <>
struct dtype_of<float> {
  static constexpr DType value = DType::f32;
};
template <>
struct dtype_of<double> {
  static constexpr DType value = DType::f64;
};
template <>
struct dtype_of<bf16> {
  static constexpr DType value = DType::bf16;
};
template <>
struct dtype_of<f16> {
  static constexpr DType value = DType::f16;
};
template <>
struct dtype_of<int32_t> {
  static constexpr DType value = DType::i32;
};
template <>
struct dtype_of<int64_t> {
  static constexpr DType value = DType::i64;
};
template <>
struct dtype_of<uint8_t> {
  static constexpr DType value = DType::u8;
};

}  // namespace dml
