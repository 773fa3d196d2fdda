#include "kernels/cpu/isa.h"

#include <atomic>
#include <cstdlib>

#include "base/error.h"

namespace dml::cpu {

namespace {

// The ScopedIsa in force, as an Isa value, or kNoOverride.
constexpr int kNoOverride = -1;
std::atomic<int> g_override{kNoOverride};

Isa lower(Isa a, Isa b) {
  return a < b ? a : b;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
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
  for (Isa isa : {Isa::portable, Isa::avx2, Isa::avx512})
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
        __builtin_cpu_supports("avx512dq"))
      return Isa::avx512;
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
