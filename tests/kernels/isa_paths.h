#pragma once
// Kernel tests on every instruction-set path (kernels/cpu/isa.h). A fixture
// derived from IsaPathTest and instantiated with
// DML_INSTANTIATE_ON_EVERY_ISA(Fixture) runs each of its tests once per path,
// named by the path (EveryIsa/Fixture.Test/avx512_bf16), under a ScopedIsa
// of that path; a path this CPU lacks is skipped with its name and the CPU's
// best, never run. Compare each path with a reference that is not a path
// (a scalar double loop, a formula), so that no path checks only itself.
#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>

#include "kernels/cpu/isa.h"

namespace dml::cpu {

// gtest names a test's parameter with this (ctest lists it beside the test).
inline void PrintTo(Isa isa, std::ostream* out) {
  *out << isa_name(isa);
}

}  // namespace dml::cpu

namespace dml::test {

class IsaPathTest : public ::testing::TestWithParam<cpu::Isa> {
 protected:
  void SetUp() override {
    if (GetParam() > cpu::cpu_isa())
      GTEST_SKIP() << "path " << cpu::isa_name(GetParam()) << " not run: this CPU's best path is "
                   << cpu::isa_name(cpu::cpu_isa());
    scope_.emplace(GetParam());
  }
  void TearDown() override { scope_.reset(); }

  cpu::Isa isa() const { return GetParam(); }

 private:
  std::optional<cpu::ScopedIsa> scope_;
};

inline std::string isa_test_name(const ::testing::TestParamInfo<cpu::Isa>& info) {
  return cpu::isa_name(info.param);
}

}  // namespace dml::test

#define DML_INSTANTIATE_ON_EVERY_ISA(fixture)                                            \
  INSTANTIATE_TEST_SUITE_P(EveryIsa, fixture, ::testing::ValuesIn(::dml::cpu::kAllIsas), \
                           ::dml::test::isa_test_name)
