#pragma once
// What the GEMM tests share (test_gemm.cpp, and gemm_selfcheck.cpp, which
// runs without gtest under an emulator): cases, random operands, the exact
// product in double with its error bound, and the comparison.
//
// Error bound, per element of C: any order of summing k products in
// precision eps is within (k + 2) * eps * (|alpha| * sum_p |a_ip b_pj| +
// |beta c_ij|) of the exact result (the usual gamma_k bound, with room for the
// alpha and beta roundings). The checks are exactly that, so they hold
// whatever the kernel's accumulation order (with or without FMA).
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa.h"

namespace dml::test {

using cpu::Isa;

// The paths this CPU runs, portable first.
inline std::vector<Isa> paths_here() {
  std::vector<Isa> out;
  for (Isa isa : dml::cpu::kAllIsas)
    if (isa <= dml::cpu::cpu_isa()) out.push_back(isa);
  return out;
}

struct Case {
  bool ta, tb;
  int64_t m, n, k;
  double alpha, beta;
  int64_t pad_a = 0, pad_b = 0, pad_c = 0;  // leading dimension minus its minimum
};

inline std::string describe(const Case& c) {
  return std::string(dml::cpu::isa_name(dml::cpu::active_isa())) + " ta=" + std::to_string(c.ta) +
         " tb=" + std::to_string(c.tb) + " m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) +
         " k=" + std::to_string(c.k) + " alpha=" + std::to_string(c.alpha) +
         " beta=" + std::to_string(c.beta) + " pads=" + std::to_string(c.pad_a) + "," +
         std::to_string(c.pad_b) + "," + std::to_string(c.pad_c);
}

// Unit roundoff times two, as the bound above uses it.
template <class T>
double eps() {
  return std::ldexp(1.0, -std::numeric_limits<T>::digits + 1);
}

// Operands of a case with random contents; C holds NaN when beta == 0 (it must
// never be read) and its padding columns hold a sentinel (never written).
template <class T>
struct Operands {
  int64_t lda, ldb, ldc;
  std::vector<T> a, b, c;
};

constexpr double kSentinel = -12345.0;

template <class T>
Operands<T> make_operands(const Case& cs, uint32_t seed) {
  Operands<T> o;
  const int64_t a_rows = cs.ta ? cs.k : cs.m, a_cols = cs.ta ? cs.m : cs.k;
  const int64_t b_rows = cs.tb ? cs.n : cs.k, b_cols = cs.tb ? cs.k : cs.n;
  o.lda = a_cols + cs.pad_a;
  o.ldb = b_cols + cs.pad_b;
  o.ldc = cs.n + cs.pad_c;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<T> u(-1, 1);
  o.a.resize(size_t(a_rows * o.lda));
  o.b.resize(size_t(b_rows * o.ldb));
  o.c.resize(size_t(cs.m * o.ldc));
  for (T& x : o.a) x = u(rng);
  for (T& x : o.b) x = u(rng);
  for (int64_t i = 0; i < cs.m; ++i)
    for (int64_t j = 0; j < o.ldc; ++j)
      o.c[size_t(i * o.ldc + j)] = j >= cs.n        ? T(kSentinel)
                                   : cs.beta == 0.0 ? std::numeric_limits<T>::quiet_NaN()
                                                    : u(rng);
  return o;
}

template <class T>
std::vector<T> run_gemm(const Case& cs, const Operands<T>& o) {
  std::vector<T> c = o.c;
  dml::cpu::gemm<T>(cs.ta, cs.tb, cs.m, cs.n, cs.k, T(cs.alpha), o.a.data(), o.lda, o.b.data(),
                    o.ldb, T(cs.beta), c.data(), o.ldc);
  return c;
}

// The exact product (in double) of a case and the bound above, per element of C.
struct Reference {
  std::vector<double> want, bound;
};

template <class T>
Reference reference(const Case& cs, const Operands<T>& o) {
  Reference r;
  for (int64_t i = 0; i < cs.m; ++i)
    for (int64_t j = 0; j < cs.n; ++j) {
      double sum = 0, mag = 0;
      for (int64_t p = 0; p < cs.k; ++p) {
        const double x = o.a[size_t(cs.ta ? p * o.lda + i : i * o.lda + p)];
        const double y = o.b[size_t(cs.tb ? j * o.ldb + p : p * o.ldb + j)];
        sum += x * y;
        mag += std::fabs(x * y);
      }
      const double c0 = cs.beta == 0.0 ? 0.0 : double(o.c[size_t(i * o.ldc + j)]);
      r.want.push_back(cs.alpha * sum + cs.beta * c0);
      r.bound.push_back(double(cs.k + 2) * eps<T>() *
                        (std::fabs(cs.alpha) * mag + std::fabs(cs.beta * c0)));
    }
  return r;
}

// The elements of `got` (the C after the product) off the reference, and
// padding written: how many, and the first few described.
struct Mismatches {
  int64_t count = 0;
  std::string first;
};

template <class T>
Mismatches compare(const Case& cs, const Operands<T>& o, const Reference& r,
                   const std::vector<T>& got) {
  Mismatches bad;
  const auto note = [&](const std::string& what) {
    if (bad.count++ < 5) bad.first += "\n  " + describe(cs) + ": " + what;
  };
  for (int64_t i = 0; i < cs.m; ++i) {
    for (int64_t j = 0; j < o.ldc; ++j) {
      const T g = got[size_t(i * o.ldc + j)];
      if (j >= cs.n) {
        if (g != T(kSentinel)) note("wrote padding");
        continue;
      }
      const double want = r.want[size_t(i * cs.n + j)], bound = r.bound[size_t(i * cs.n + j)];
      if (!(std::fabs(double(g) - want) <= bound))
        note("C[" + std::to_string(i) + "," + std::to_string(j) + "] = " + std::to_string(g) +
             ", want " + std::to_string(want) + " +- " + std::to_string(bound));
    }
  }
  return bad;
}

}  // namespace dml::test
