#include "bench/peak_flops.h"

#include <omp.h>

#include <time.h>

#include <algorithm>
#include <cstdint>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace dml::bench {

namespace {

using cpu::Isa;

// Independent accumulators per vector loop: more than an FMA's latency times
// the instructions a core issues per cycle (4 x 2 on today's x86 cores), so
// the loop waits on no result, and few enough to stay in 16 ymm registers.
constexpr int kChains = 12;
// Accumulator tiles of the AMX loop (TMM0-3; TMM4-7 hold the operands).
constexpr int kTileChains = 4;

// Operands read through volatile, so no loop folds to a constant.
volatile float g_scale = 0.999f, g_offset = 1e-3f;
volatile float g_sink = 0;

// Each loop runs `iters` rounds of its instruction on every chain and returns
// a lane of the chains' sum, so no chain is dead code.
using Loop = float (*)(int64_t iters);

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) float fma_ymm_loop(int64_t iters) {
  const __m256 a = _mm256_set1_ps(g_scale), b = _mm256_set1_ps(g_offset);
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(float(c));
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  }
  for (int c = 1; c < kChains; ++c) acc[0] = _mm256_add_ps(acc[0], acc[c]);
  return _mm256_cvtss_f32(acc[0]);
}

__attribute__((target("avx512f,avx2,fma"))) float fma_zmm_loop(int64_t iters) {
  const __m512 a = _mm512_set1_ps(g_scale), b = _mm512_set1_ps(g_offset);
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(float(c));
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  }
  for (int c = 1; c < kChains; ++c) acc[0] = _mm512_add_ps(acc[0], acc[c]);
  return _mm512_cvtss_f32(acc[0]);
}

__attribute__((target("avx512f,avx512bf16"))) float dpbf16_zmm_loop(int64_t iters) {
  const __m512 scale = _mm512_set1_ps(g_scale), offset = _mm512_set1_ps(g_offset);
  const __m512bh a = _mm512_cvtne2ps_pbh(scale, scale), b = _mm512_cvtne2ps_pbh(offset, offset);
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(float(c));
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_dpbf16_ps(acc[c], a, b);
  }
  for (int c = 1; c < kChains; ++c) acc[0] = _mm512_add_ps(acc[0], acc[c]);
  return _mm512_cvtss_f32(acc[0]);
}

// AMX's tile configuration (palette 1): every tile 16 rows of 64 bytes.
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t bytes_per_row[16] = {};
  uint8_t rows[16] = {};
};

__attribute__((target("amx-tile,amx-bf16"))) float amx_dpbf16_loop(int64_t iters) {
  TileConfig config;
  for (int t = 0; t < 8; ++t) {
    config.bytes_per_row[t] = 64;
    config.rows[t] = 16;
  }
  alignas(64) uint16_t operand[16 * 32];
  std::fill(std::begin(operand), std::end(operand), uint16_t{0x3c00});  // bf16 2^-7
  alignas(64) float result[16 * 16];
  _tile_loadconfig(&config);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, operand, 64);
  _tile_loadd(5, operand, 64);
  _tile_loadd(6, operand, 64);
  _tile_loadd(7, operand, 64);
  for (int64_t i = 0; i < iters; ++i) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, result, 64);
  _tile_release();
  return result[0];
}
#endif

Loop loop_of(PeakOp op) {
#if defined(__x86_64__)
  switch (op) {
    case PeakOp::fma_ymm_f32:
      return fma_ymm_loop;
    case PeakOp::fma_zmm_f32:
      return fma_zmm_loop;
    case PeakOp::dpbf16_zmm:
      return dpbf16_zmm_loop;
    case PeakOp::amx_dpbf16:
      return amx_dpbf16_loop;
  }
#endif
  return nullptr;
}

int instructions_per_round(PeakOp op) {
  return op == PeakOp::amx_dpbf16 ? kTileChains : kChains;
}

// CPU seconds of the calling thread: what a loop took while it ran, however
// many other processes shared the core (the machine's peak, not its load).
double thread_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// `iters` rounds on the calling thread: the flops per CPU second.
double flops_per_second(Loop loop, int64_t iters, double flops) {
  const double t0 = thread_seconds();
  const float result = loop(iters);
  const double seconds = thread_seconds() - t0;
  g_sink = g_sink + result;
  return flops / seconds;
}

// The rate of `iters` rounds on one thread, or the sum of the rates of every
// OpenMP thread running them at once (threads sharing a core's units, or a
// clock that drops under load, show there).
double gflops_of(PeakOp op, int64_t iters, bool all_threads) {
  const Loop loop = loop_of(op);
  const double flops = double(iters) * instructions_per_round(op) * flops_per_instruction(op);
  if (!all_threads) return flops_per_second(loop, iters, flops) * 1e-9;
  double total = 0;
#pragma omp parallel reduction(+ : total)
  total += flops_per_second(loop, iters, flops);
  return total * 1e-9;
}

}  // namespace

const char* peak_op_name(PeakOp op) {
  switch (op) {
    case PeakOp::fma_ymm_f32:
      return "fma_ymm_f32";
    case PeakOp::fma_zmm_f32:
      return "fma_zmm_f32";
    case PeakOp::dpbf16_zmm:
      return "vdpbf16ps_zmm";
    case PeakOp::amx_dpbf16:
      return "amx_tdpbf16ps";
  }
  return "?";
}

double flops_per_instruction(PeakOp op) {
  switch (op) {
    case PeakOp::fma_ymm_f32:
      return 8 * 2;
    case PeakOp::fma_zmm_f32:
      return 16 * 2;
    case PeakOp::dpbf16_zmm:
      return 16 * 4;
    case PeakOp::amx_dpbf16:
      return 16.0 * 16 * 32 * 2;
  }
  return 0;
}

Isa peak_op_isa(PeakOp op) {
  switch (op) {
    case PeakOp::fma_ymm_f32:
      return Isa::avx2;
    case PeakOp::fma_zmm_f32:
      return Isa::avx512;
    case PeakOp::dpbf16_zmm:
      return Isa::avx512_bf16;
    case PeakOp::amx_dpbf16:
      return Isa::amx;
  }
  return Isa::amx;
}

bool peak_op_available(PeakOp op) {
  return loop_of(op) != nullptr && cpu::isa_built(peak_op_isa(op)) &&
         cpu::cpu_isa() >= peak_op_isa(op);
}

std::optional<PeakOp> peak_op_for(Isa isa, bool bf16) {
  if (bf16 && isa == Isa::amx) return PeakOp::amx_dpbf16;
  if (bf16 && isa == Isa::avx512_bf16) return PeakOp::dpbf16_zmm;
  if (isa >= Isa::avx512) return PeakOp::fma_zmm_f32;
  if (isa == Isa::avx2) return PeakOp::fma_ymm_f32;
  return std::nullopt;
}

PeakRate measure_peak(PeakOp op, double min_seconds) {
  const Loop loop = loop_of(op);
  int64_t iters = 256;
  for (;; iters *= 2) {
    const double t0 = thread_seconds();
    g_sink = g_sink + loop(iters);
    if (thread_seconds() - t0 >= min_seconds) break;
  }
  PeakRate rate;
  rate.threads = omp_get_max_threads();
  for (int run = 0; run < 3; ++run) {
    rate.one_thread_gflops = std::max(rate.one_thread_gflops, gflops_of(op, iters, false));
    rate.all_threads_gflops = std::max(rate.all_threads_gflops, gflops_of(op, iters, true));
  }
  return rate;
}

}  // namespace dml::bench
