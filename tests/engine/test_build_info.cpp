// engine/build_info: the CPU paths built, the one taken and why, as
// `dml --version` prints them.
#include "engine/build_info.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa.h"

namespace dml {
namespace {

using cpu::Isa;

TEST(BuildInfo, ListsThePathsBuilt) {
  const BuildInfo info = build_info();
  for (Isa isa : dml::cpu::kAllIsas)
    EXPECT_EQ(info.cpu_paths.find(std::string(cpu::isa_name(isa)) + " (") != std::string::npos,
              cpu::isa_built(isa))
        << info.cpu_paths;
  EXPECT_EQ(info.cpu_paths.find("OpenBLAS") != std::string::npos, cpu::gemm_openblas_built())
      << info.cpu_paths;
}

// A path set by hand is named, with the reason, and runs the own kernels.
TEST(BuildInfo, NamesAPathSetByAScopedIsa) {
  for (Isa isa : dml::cpu::kAllIsas) {
    if (isa > cpu::cpu_isa()) continue;
    const cpu::ScopedIsa scope(isa);
    const std::string selected = build_info().cpu_selected;
    const std::string gemm = cpu::gemm_openblas_built() ? "GEMM: own kernels (path chosen by hand)"
                                                        : "GEMM: own kernels (built without";
    EXPECT_EQ(selected.rfind(std::string(cpu::isa_name(isa)) + " (set by a ScopedIsa; " + gemm, 0),
              0u)
        << selected;
  }
}

// Run by ctest with DML_ISA set (tests/engine/CMakeLists.txt): the variable
// named with the CPU's best, or reported as ignored; skipped elsewhere.
TEST(BuildInfo, NamesDmlIsa) {
  const char* env = std::getenv("DML_ISA");
  if (!env) GTEST_SKIP() << "DML_ISA not set";
  const std::string selected = build_info().cpu_selected;
  const std::string best = cpu::isa_name(cpu::cpu_isa());
  if (cpu::parse_isa(env))
    EXPECT_NE(selected.find("(DML_ISA=" + std::string(env) + ", the CPU's best is " + best),
              std::string::npos)
        << selected;
  else
    EXPECT_NE(selected.find("; DML_ISA=" + std::string(env) + " ignored"), std::string::npos)
        << selected;
}

}  // namespace
}  // namespace dml
