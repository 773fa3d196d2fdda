#include "kernels/cpu/isa.h"

#include <atomic>
#include <cstdlib>

#if defined(__x86_64__)
#include <cpuid.h>
#endif
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "base/error.h"

namespace dml::cpu {

namespace {

// The ScopedIsa in force, as an Isa value, or kNoOverride.
constexpr int kNoOverride = -1;
std::atomic<int> g_override{kNoOverride};

Isa lower(Isa a, Isa b) {
  return a < b ? a : b;
}

#if defined(__x86_64__)
// Whether the CPU has AMX-TILE and AMX-BF16 (cpuid leaf 7: EDX bits 24 and
// 22), the OS saves the tile state (XCR0 bits 17 and 18), and Linux grants
// this process the tile data (ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA;
// without the grant the first tile instruction faults). Asked once.
bool amx_granted() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  if (!(edx & (1u << 24)) || !(edx & (1u << 22))) return false;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) return false;  // OSXSAVE
  unsigned xcr0_lo, xcr0_hi;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  constexpr unsigned kTileState = (1u << 17) | (1u << 18);
  if ((xcr0_lo & kTileState) != kTileState) return false;
#if defined(__linux__)
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}
#endif

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::amx:
      return "amx";
    case Isa::avx512_bf16:
      return "avx512_bf16";
    case Isa::avx512:
      return "avx512";
    case Isa::avx2:
      return "avx2";
    case Isa::portable:
      break;
  }
  return "portable";
}

std::optional<Isa> parse_isa(std::string_view name) {
  for (Isa isa : kAllIsas)
    if (name == isa_name(isa)) return isa;
  return std::nullopt;
}

bool isa_built(Isa isa) {
#if defined(__x86_64__)
  (void)isa;
  return true;
#else
  return isa == Isa::portable;
#endif
}

Isa cpu_isa() {
  static const Isa best = [] {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw")) {
      if (!__builtin_cpu_supports("avx512bf16")) return Isa::avx512;
      return amx_granted() ? Isa::amx : Isa::avx512_bf16;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::avx2;
#endif
    return Isa::portable;
  }();
  return best;
}

std::optional<Isa> isa_from_environment() {
  static const std::optional<Isa> limit = []() -> std::optional<Isa> {
    const char* env = std::getenv("DML_ISA");
    return env ? parse_isa(env) : std::nullopt;
  }();
  return limit;
}

Isa active_isa() {
  const int forced = g_override.load(std::memory_order_relaxed);
  if (forced != kNoOverride) return Isa(forced);
  const std::optional<Isa> limit = isa_from_environment();
  return limit ? lower(cpu_isa(), *limit) : cpu_isa();
}

IsaSource active_isa_source() {
  if (g_override.load(std::memory_order_relaxed) != kNoOverride) return IsaSource::scoped;
  return isa_from_environment() ? IsaSource::environment : IsaSource::cpu;
}

ScopedIsa::ScopedIsa(Isa isa) : previous_(g_override.load()) {
  DML_CHECK(isa <= cpu_isa(), "ScopedIsa: this CPU cannot run the ", isa_name(isa),
            " path (its best is ", isa_name(cpu_isa()), "); ask for a lower one");
  g_override.store(int(isa));
}

ScopedIsa::~ScopedIsa() {
  g_override.store(previous_);
}

}  // namespace dml::cpu
