#include "engine/math_mode.h"

#ifdef DML_WITH_CUDA
#include "kernels/cuda/blas.h"
#endif

namespace dml {

#ifdef DML_WITH_CUDA
// The switch lives with cuBLAS, which cuDNN's convolutions read too.
void set_allow_tf32(bool on) {
  cuda::set_allow_tf32(on);
}
bool allow_tf32() {
  return cuda::allow_tf32();
}
#else
namespace {
bool tf32_allowed = false;  // remembered so a CPU-only build answers as it was told
}  // namespace
void set_allow_tf32(bool on) {
  tf32_allowed = on;
}
bool allow_tf32() {
  return tf32_allowed;
}
#endif

}  // namespace dml
