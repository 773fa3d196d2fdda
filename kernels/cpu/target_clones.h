#pragma once
// DML_TARGET_CLONES compiles a function once per x86-64 level (AVX-512, AVX2,
// baseline) and lets the loader pick the copy for the CPU it runs on (GCC's
// target_clones through an ifunc): simple loops over floats get the widest
// vectors the machine has without a hand-written copy per instruction set.
// Elsewhere (other architectures, compilers without ifunc) it is empty and the
// function is compiled once for the build's target.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define DML_TARGET_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DML_TARGET_CLONES
#endif
