#include "engine/build_info.h"

#include <cstdlib>

#include "engine/device.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa.h"

namespace dml {

namespace {

// What each built path runs, best first.
std::string built_paths() {
  std::string out;
  const auto add = [&](const std::string& path) { out += (out.empty() ? "" : ", ") + path; };
  if (cpu::isa_built(cpu::Isa::amx)) add("amx (bf16 GEMM and convolution)");
  if (cpu::isa_built(cpu::Isa::avx512_bf16)) add("avx512_bf16 (bf16 GEMM and convolution)");
  if (cpu::isa_built(cpu::Isa::avx512))
    add("avx512 (f32 GEMM and convolution, kNN selection, vector loops)");
  if (cpu::isa_built(cpu::Isa::avx2)) add("avx2 (GEMM, Winograd convolution, vector loops)");
  add("portable (GEMM, kNN selection)");
  if (cpu::gemm_openblas_built()) add("OpenBLAS (GEMM)");
  return out;
}

// Why the active path is the one it is.
std::string isa_reason() {
  switch (cpu::active_isa_source()) {
    case cpu::IsaSource::scoped:
      return "set by a ScopedIsa";
    case cpu::IsaSource::environment:
      return std::string("DML_ISA=") + cpu::isa_name(*cpu::isa_from_environment()) +
             ", the CPU's best is " + cpu::isa_name(cpu::cpu_isa());
    case cpu::IsaSource::cpu:
      break;
  }
  return "the CPU's best";
}

// Which GEMMs OpenBLAS takes on the active path, and why (gemm.h's rule).
std::string gemm_route(cpu::Isa active) {
  if (!cpu::gemm_openblas_built()) return "GEMM: own kernels (built without OpenBLAS)";
  if (cpu::active_isa_source() != cpu::IsaSource::cpu)
    return "GEMM: own kernels (path chosen by hand)";
  if (cpu::gemm_openblas_forced()) return "GEMM: OpenBLAS (DML_GEMM=openblas)";
  if (active >= cpu::Isa::avx512) return "GEMM: own f32, OpenBLAS for f64 and small f32";
  return "GEMM: OpenBLAS (faster than own kernels off avx512)";
}

}  // namespace

BuildInfo build_info() {
  BuildInfo info;
#ifdef DML_WITH_CUDA
  info.cuda_built = true;
#endif
  info.cuda_devices = cuda_device_count();
  info.cpu_paths = built_paths();
  const cpu::Isa active = cpu::active_isa();
  info.cpu_selected =
      std::string(cpu::isa_name(active)) + " (" + isa_reason() + "; " + gemm_route(active) + ")";
  const char* env = std::getenv("DML_ISA");
  if (env && !cpu::parse_isa(env))
    info.cpu_selected += "; DML_ISA=" + std::string(env) +
                         " ignored (not portable, avx2, avx512, avx512_bf16 or amx)";
  return info;
}

}  // namespace dml
