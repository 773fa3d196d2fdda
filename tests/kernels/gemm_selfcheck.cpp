// The GEMM paths checked without gtest, for builds whose tests cannot run
// here: scripts/cross_aarch64.sh runs it under qemu (ctest runs it on the
// host too). Each path this CPU runs, f32 and f64, lean and packed shapes with
// all four transposes, padded leading dimensions and NaN in C for beta == 0,
// against the exact product within tests/kernels/gemm_reference.h's bound;
// and the path rules: a path above the CPU's refused. Prints what failed and
// exits non-zero.
#include <cstdio>
#include <vector>

#include "base/error.h"
#include "tests/kernels/gemm_reference.h"

namespace {

using namespace dml::test;

int failures = 0;

void expect(bool ok, const std::string& what) {
  if (ok) return;
  ++failures;
  std::printf("FAILED: %s\n", what.c_str());
}

template <class T>
void check_case(const Case& cs, uint32_t seed) {
  const Operands<T> o = make_operands<T>(cs, seed);
  const Reference r = reference(cs, o);
  const Mismatches bad = compare(cs, o, r, run_gemm(cs, o));
  expect(bad.count == 0, std::to_string(bad.count) + " bad elements:" + bad.first);
}

void check_paths() {
  struct Dims {
    int64_t m, n, k;
  };
  const Dims dims[] = {{1, 1, 1},     {3, 5, 7},      {4, 300, 50},  {300, 4, 50},
                       {16, 16, 16},  {7, 17, 256},   {13, 33, 257}, {121, 40, 99},
                       {1, 512, 700}, {64, 147, 300}, {7, 2100, 9}};
  for (Isa isa : paths_here()) {
    const dml::cpu::ScopedIsa scope(isa);
    uint32_t seed = 1;
    for (int t = 0; t < 4; ++t)
      for (const Dims& d : dims) {
        const Case plain{bool(t & 1), bool(t & 2), d.m, d.n, d.k, 1.0, 0.0, 3, 5, 7};
        const Case scaled{bool(t & 1), bool(t & 2), d.m, d.n, d.k, -0.5, 2.0, 0, 1, 0};
        for (const Case& cs : {plain, scaled}) {
          check_case<float>(cs, seed);
          check_case<double>(cs, seed++);
        }
      }
    std::printf("%s: checked\n", dml::cpu::isa_name(isa));
  }
}

void check_rules() {
  const Isa best = dml::cpu::cpu_isa();
  for (Isa isa : dml::cpu::kAllIsas) {
    bool refused = false;
    try {
      const dml::cpu::ScopedIsa scope(isa);
    } catch (const dml::Error&) {
      refused = true;
    }
    expect(refused == (isa > best), std::string("ScopedIsa(") + dml::cpu::isa_name(isa) +
                                        ") with the CPU's best " + dml::cpu::isa_name(best));
    expect(dml::cpu::isa_built(isa) || isa > best,
           std::string("the CPU runs ") + dml::cpu::isa_name(isa) + ", which is not built");
  }
  expect(dml::cpu::active_isa() <= best, "the active path is above the CPU's best");
}

}  // namespace

int main() {
  std::printf("cpu: %s\n", dml::cpu::isa_name(dml::cpu::cpu_isa()));
  check_paths();
  check_rules();
  std::printf(failures ? "gemm_selfcheck: %d failure(s)\n" : "gemm_selfcheck: ok\n", failures);
  return failures ? 1 : 0;
}
