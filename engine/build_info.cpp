#include "engine/build_info.h"

#include <cstdlib>
#include <cstring>

#include "engine/device.h"
#include "kernels/cpu/nearest_selection.h"
#include "kernels/cpu/sgemm_avx512.h"

namespace dml {

BuildInfo build_info() {
  BuildInfo info;
#ifdef DML_WITH_CUDA
  info.cuda_built = true;
#endif
  info.cuda_devices = cuda_device_count();
  info.cpu_paths = "avx512 (f32 GEMM, kNN selection), portable (OpenBLAS GEMM)";
  // gemm.cpp reads the same variable: DML_GEMM=openblas keeps f32 products on OpenBLAS.
  const char* gemm_env = std::getenv("DML_GEMM");
  const bool openblas_forced = gemm_env && std::strcmp(gemm_env, "openblas") == 0;
  const bool gemm_avx512 = cpu::sgemm_avx512_supported() && !openblas_forced;
  const bool knn_avx512 = cpu::NearestSelection::has_avx512();
  if (gemm_avx512 && knn_avx512)
    info.cpu_selected = "avx512 (the CPU has AVX-512F/VL/DQ)";
  else if (knn_avx512)
    info.cpu_selected = "avx512 kNN selection, OpenBLAS GEMM (DML_GEMM=openblas)";
  else
    info.cpu_selected = "portable (the CPU lacks AVX-512)";
  return info;
}

}  // namespace dml
