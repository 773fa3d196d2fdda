#pragma once
// What this build can run and what this machine lets it choose, for
// `dml --version` and bug reports: whether the CUDA backend is compiled in
// (and sees a device), and which CPU kernel paths exist and which one this
// CPU takes (they are chosen at run time from its features).
#include <string>

namespace dml {

struct BuildInfo {
  bool cuda_built = false;   // the CUDA backend is compiled in
  int cuda_devices = 0;      // usable devices now (0 without a driver)
  std::string cpu_paths;     // the CPU kernel paths this build has
  std::string cpu_selected;  // the one taken here, and why (CPU, DML_ISA, DML_GEMM)
};

BuildInfo build_info();

}  // namespace dml
