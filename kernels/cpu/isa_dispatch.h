#pragma once
// Simple loops over floats compiled once per instruction-set path and run on
// the active one (isa.h), so DML_ISA and ScopedIsa reach them like every other
// kernel and each path's copy is tested on one machine.
//
// A loop body is a function marked DML_ISA_BODY (always inlined) with internal
// linkage; run_for_isa<body>(isa, args...) calls the copy of `isa`. On x86-64
// the avx512 and avx2 copies are wrappers with a target attribute (the ISA
// flags the path guarantees, nothing more), into which the body is inlined
// and vectorised for that path; the portable copy is the body compiled with
// the build's flags, the only one elsewhere. The avx512_bf16 and amx paths
// run the avx512 copy: their extra instructions are bf16 products, which a
// simple loop never uses. Only these wrappers carry a
// target, and each instantiation names its own body (internal linkage when
// the body has it), so no inline function shared with other code is ever
// compiled with wider instructions than the build's (the one-definition rule
// holds; see sgemm_avx512.cpp's header comment for the file-flag case).
// A body that is not inlined would run baseline code in every copy: hence
// always_inline, which GCC honours only for a callee whose ISA is the
// caller's or less (here: none beyond the baseline).
//
// Arguments travel by value: pointers, sizes and small structs.
#include "kernels/cpu/isa.h"

#define DML_ISA_BODY __attribute__((always_inline)) inline

namespace dml::cpu {

namespace isa_dispatch {

#if defined(__x86_64__)
template <auto kBody, class... Args>
__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"))) void avx512_copy(
    Args... args) {
  kBody(args...);
}

template <auto kBody, class... Args>
__attribute__((target("avx2,fma"))) void avx2_copy(Args... args) {
  kBody(args...);
}
#endif

}  // namespace isa_dispatch

// Runs kBody(args...) compiled for `isa` (the caller reads active_isa() once
// per kernel call, outside its loops).
template <auto kBody, class... Args>
void run_for_isa(Isa isa, Args... args) {
#if defined(__x86_64__)
  switch (isa) {
    case Isa::amx:
    case Isa::avx512_bf16:
    case Isa::avx512:
      return isa_dispatch::avx512_copy<kBody>(args...);
    case Isa::avx2:
      return isa_dispatch::avx2_copy<kBody>(args...);
    case Isa::portable:
      break;
  }
#else
  (void)isa;
#endif
  kBody(args...);
}

}  // namespace dml::cpu
