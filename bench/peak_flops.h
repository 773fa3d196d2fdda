#pragma once
// The machine's peak arithmetic rate per instruction-set path, measured: a
// tight loop of independent register-only instructions (a dozen accumulator
// chains, no loads), on one thread and on every OpenMP thread at once, each
// thread timed by its own CPU clock (a core shared with other processes still
// shows what it does while the loop runs). The yardstick the GEMM and
// convolution benchmarks state their rates against: a kernel at 80% of its
// path's peak has little left to gain on that path.
#include <optional>

#include "kernels/cpu/isa.h"

namespace dml::bench {

// The instruction a path's products end in.
enum class PeakOp {
  fma_ymm_f32,  // AVX2 VFMADD on 8 floats
  fma_zmm_f32,  // AVX-512 VFMADD on 16 floats
  dpbf16_zmm,   // AVX512-BF16 VDPBF16PS: per f32 lane two bf16 products and two adds
  amx_dpbf16,   // AMX TDPBF16PS: a 16 x 16 x 32 tile product
};
inline constexpr PeakOp kAllPeakOps[] = {PeakOp::fma_ymm_f32, PeakOp::fma_zmm_f32,
                                         PeakOp::dpbf16_zmm, PeakOp::amx_dpbf16};

const char* peak_op_name(PeakOp op);
// Flops one instruction counts (a multiply and an add per multiply-add).
double flops_per_instruction(PeakOp op);
// The lowest path that has the instruction.
cpu::Isa peak_op_isa(PeakOp op);
// Whether this CPU runs it.
bool peak_op_available(PeakOp op);

// The instruction whose rate bounds a product on path `isa`, in bf16 or f32:
// bf16 on amx and avx512_bf16 has its own, elsewhere bf16 operands are widened
// to f32. None on the portable path (its vector width is the compiler's).
std::optional<PeakOp> peak_op_for(cpu::Isa isa, bool bf16);

struct PeakRate {
  double one_thread_gflops = 0;
  double all_threads_gflops = 0;
  int threads = 0;  // OpenMP threads of the second figure
};

// Best of three runs of at least `min_seconds` of CPU time each, on one thread and then
// on all. Requires peak_op_available(op).
PeakRate measure_peak(PeakOp op, double min_seconds);

}  // namespace dml::bench
