#pragma once
// The Philox4x32-10 counter-based generator and the transforms from its
// output to uniform, normal, integer and Bernoulli values, written once for
// the host and the CUDA device (engine/rng.h's Generator draws through them): element i of
// every random fill is a pure function of (seed, offset + i), and both
// backends compute it with this code, so a fill on a GPU equals the CPU's
// bit for bit.
//
// Bit-identical results need every floating operation to round the same way
// on both sides. +, -, *, / and sqrt are correctly rounded IEEE operations
// on the host and on the device, but library log/cos are not (glibc and
// CUDA's libdevice differ by an ulp here and there), and nvcc would contract
// a * b + c into one fused multiply-add, as GCC does on hosts that have one.
// So the normal transform uses its own log and cos made of single operations
// through rn_add / rn_mul / rn_div, which no compiler fuses (__dadd_rn and kin
// on the device, an optimisation barrier after the product on FMA hosts).
// C++17 and host/device annotated: .cu files include it.
#include <cmath>
#include <cstdint>

#include "base/host_device.h"

namespace dml {

struct PhiloxBlock {
  uint32_t v[4];
  DML_HOST_DEVICE uint32_t operator[](int i) const { return v[i]; }
};

DML_HOST_DEVICE inline PhiloxBlock philox4x32_10(uint64_t counter, uint64_t key) {
  uint32_t c0 = uint32_t(counter), c1 = uint32_t(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = uint32_t(key), k1 = uint32_t(key >> 32);
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = uint64_t(0xD2511F53u) * c0;
    uint64_t p1 = uint64_t(0xCD9E8D57u) * c2;
    uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0;
    uint32_t n2 = uint32_t(p0 >> 32) ^ c3 ^ k1;
    c1 = uint32_t(p1);
    c3 = uint32_t(p0);
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

// Uniform in [0, 1) with 24 (float) or 53 (double) random bits: exact
// conversions, the same everywhere.
DML_HOST_DEVICE inline float uniform_f32(uint32_t a) {
  return float(a >> 8) * (1.0f / 16777216.0f);
}
DML_HOST_DEVICE inline double uniform_f64(uint32_t a, uint32_t b) {
  uint64_t bits = (uint64_t(a) << 21) ^ uint64_t(b >> 11);
  return double(bits & ((uint64_t(1) << 53) - 1)) * (1.0 / 9007199254740992.0);
}

// Single correctly rounded double operations that no compiler fuses.
DML_HOST_DEVICE inline double rn_add(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}
DML_HOST_DEVICE inline double rn_mul(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dmul_rn(a, b);
#elif defined(__FP_FAST_FMA) && defined(__GNUC__)
  // A host with fused multiply-add (aarch64 always, x86 with -mfma): the
  // empty asm hides the product from the compiler, so it cannot fuse it into
  // the addition that follows.
  double p = a * b;
  __asm__("" : "+m"(p));
  return p;
#else
  return a * b;  // no FMA instruction to contract into
#endif
}
DML_HOST_DEVICE inline double rn_div(double a, double b) {
#ifdef __CUDA_ARCH__
  return __ddiv_rn(a, b);
#else
  return a / b;
#endif
}

// Natural log of u in (0, 1], within a few ulps: u = m * 2^e with m in
// [1/sqrt 2, sqrt 2), log m = 2 atanh(s) for s = (m - 1) / (m + 1), |s| <=
// 0.172, by its series to s^23 (the next term is below 2^-60 of the sum).
DML_HOST_DEVICE inline double portable_log(double u) {
  int e = 0;
  double m = std::frexp(u, &e);  // exact, m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m = rn_mul(m, 2.0);  // exact
    e -= 1;
  }
  const double s = rn_div(rn_add(m, -1.0), rn_add(m, 1.0)), z = rn_mul(s, s);
  // P(z) = 1/3 + z/5 + ... + z^10/23; the constants fold exactly rounded.
  double p = 1.0 / 23.0;
  p = rn_add(rn_mul(p, z), 1.0 / 21.0);
  p = rn_add(rn_mul(p, z), 1.0 / 19.0);
  p = rn_add(rn_mul(p, z), 1.0 / 17.0);
  p = rn_add(rn_mul(p, z), 1.0 / 15.0);
  p = rn_add(rn_mul(p, z), 1.0 / 13.0);
  p = rn_add(rn_mul(p, z), 1.0 / 11.0);
  p = rn_add(rn_mul(p, z), 1.0 / 9.0);
  p = rn_add(rn_mul(p, z), 1.0 / 7.0);
  p = rn_add(rn_mul(p, z), 1.0 / 5.0);
  p = rn_add(rn_mul(p, z), 1.0 / 3.0);
  const double two_s = rn_mul(s, 2.0);
  const double log_m = rn_add(two_s, rn_mul(rn_mul(two_s, z), p));
  // ln 2 split so e * ln2_hi is exact (fdlibm's constants).
  const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  const double de = double(e);
  return rn_add(rn_mul(de, ln2_hi), rn_add(log_m, rn_mul(de, ln2_lo)));
}

// cos(2 pi u) for u in [0, 1), within a few ulps: 4u = q + r exactly with q
// an integer and |r| <= 1/2, so the angle is q quarter turns plus x = r pi/2,
// |x| <= pi/4, where the Taylor series to x^18 (cos) and x^17 (sin) is
// accurate to below 2^-55.
DML_HOST_DEVICE inline double portable_cos_2pi(double u) {
  const double t = rn_mul(u, 4.0);  // exact
  const double q = std::floor(rn_add(t, 0.5));
  const double x = rn_mul(rn_add(t, -q), 1.57079632679489661923), z = rn_mul(x, x);
  double c = 1.0 / 20922789888000.0;  // 1/16!
  c = rn_add(rn_mul(c, z), -1.0 / 87178291200.0);
  c = rn_add(rn_mul(c, z), 1.0 / 479001600.0);
  c = rn_add(rn_mul(c, z), -1.0 / 3628800.0);
  c = rn_add(rn_mul(c, z), 1.0 / 40320.0);
  c = rn_add(rn_mul(c, z), -1.0 / 720.0);
  c = rn_add(rn_mul(c, z), 1.0 / 24.0);
  c = rn_add(rn_mul(c, z), -0.5);
  const double cos_x = rn_add(1.0, rn_mul(z, c));
  double s = 1.0 / 355687428096000.0;  // 1/17!
  s = rn_add(rn_mul(s, z), -1.0 / 1307674368000.0);
  s = rn_add(rn_mul(s, z), 1.0 / 6227020800.0);
  s = rn_add(rn_mul(s, z), -1.0 / 39916800.0);
  s = rn_add(rn_mul(s, z), 1.0 / 362880.0);
  s = rn_add(rn_mul(s, z), -1.0 / 5040.0);
  s = rn_add(rn_mul(s, z), 1.0 / 120.0);
  s = rn_add(rn_mul(s, z), -1.0 / 6.0);
  const double sin_x = rn_add(x, rn_mul(rn_mul(x, z), s));
  switch (int(q) & 3) {
    case 0:
      return cos_x;
    case 1:
      return -sin_x;
    case 2:
      return -cos_x;
    default:
      return sin_x;
  }
}

// N(0, 1) by Box-Muller from one block: 53-bit uniforms from each half; 1 - u
// keeps the log argument in (0, 1].
DML_HOST_DEVICE inline double normal_f64(const PhiloxBlock& r) {
  const double u1 = rn_add(1.0, -uniform_f64(r[0], r[1])), u2 = uniform_f64(r[2], r[3]);
  return rn_mul(std::sqrt(rn_mul(-2.0, portable_log(u1))), portable_cos_2pi(u2));
}

// The value element `i` of each fill takes from its block.
template <class T>
DML_HOST_DEVICE T uniform_value(const PhiloxBlock& r) {
  if constexpr (sizeof(T) == 4)
    return uniform_f32(r[0]);
  else
    return uniform_f64(r[0], r[1]);
}
template <class T>
DML_HOST_DEVICE T normal_value(const PhiloxBlock& r) {
  return T(normal_f64(r));  // rounded to nearest on both backends
}
// In [low, low + span); the bias is below 2^-32 for spans under 2^32.
DML_HOST_DEVICE inline int64_t randint_value(const PhiloxBlock& r, int64_t low, uint64_t span) {
  uint64_t bits = (uint64_t(r[0]) << 32) | r[1];
  return low + int64_t(bits % span);
}
// 1 with probability p: a 53-bit uniform below p.
template <class T>
DML_HOST_DEVICE T bernoulli_value(const PhiloxBlock& r, double p) {
  return uniform_f64(r[0], r[1]) < p ? T(1) : T(0);
}

}  // namespace dml
