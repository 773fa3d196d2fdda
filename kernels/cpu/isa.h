#pragma once
// The CPU kernels' instruction-set paths, chosen at run time: one binary runs
// on every x86-64 CPU (and the portable path on any other architecture).
//
// The active path is the best one this CPU runs, lowered by the environment
// variable DML_ISA=portable|avx2|avx512|avx512_bf16|amx (the highest path
// allowed, read once; an unknown value is ignored) or, in tests, by a
// ScopedIsa. It never rises above what the CPU has, so no choice can reach an
// illegal instruction. Every dispatch in kernels/cpu asks active_isa().
//
// The paths, each a superset of the one below it:
//   portable     the build's flags (x86-64 baseline: SSE2), any architecture;
//   avx2         AVX2 and FMA;
//   avx512       AVX-512 F, VL, DQ and BW;
//   avx512_bf16  and AVX512-BF16 (bf16 dot products: VDPBF16PS);
//   amx          and AMX-TILE with AMX-BF16 (bf16 tile products), once the
//                kernel grants this process the tile state (arch_prctl).
// Features are read with __builtin_cpu_supports (which also asks whether the
// OS saves the wider registers) and, for AMX, cpuid and the OS's XCR0.
#include <optional>
#include <string_view>

namespace dml::cpu {

// Ordered: a path runs on every CPU that runs the one above it.
enum class Isa { portable, avx2, avx512, avx512_bf16, amx };

// Every path, portable first.
inline constexpr Isa kAllIsas[] = {Isa::portable, Isa::avx2, Isa::avx512, Isa::avx512_bf16,
                                   Isa::amx};

const char* isa_name(Isa isa);
// The path named `name` (isa_name of one of kAllIsas), or none.
std::optional<Isa> parse_isa(std::string_view name);

// Whether this build has the path's kernels (all but portable on x86-64 only).
bool isa_built(Isa isa);
// The best path this CPU runs; checked once.
Isa cpu_isa();
// DML_ISA's path when it names one (read once), whether or not the CPU has it.
std::optional<Isa> isa_from_environment();
// The path the kernels take now: cpu_isa() lowered by DML_ISA and by the
// innermost ScopedIsa.
Isa active_isa();
// Where the active path comes from. One chosen by hand (DML_ISA names a
// path, or a ScopedIsa is alive) runs the engine's own kernels of that path,
// never a third-party library, so each path can be tested on one machine.
enum class IsaSource { cpu, environment, scoped };
IsaSource active_isa_source();

// Sets the active path for its lifetime (tests: run every path this CPU has).
// Process-wide, not per thread, so OpenMP workers see it too; nest, never
// overlap from two threads. Refuses (dml::Error) a path the CPU lacks.
class ScopedIsa {
 public:
  explicit ScopedIsa(Isa isa);
  ~ScopedIsa();
  ScopedIsa(const ScopedIsa&) = delete;
  ScopedIsa& operator=(const ScopedIsa&) = delete;

 private:
  int previous_;
};

}  // namespace dml::cpu
