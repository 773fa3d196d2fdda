#pragma once
// kernels/cpu/bf16gemm_amx.cpp run on a software model of the AMX tile
// instructions it uses (amx_tile_model.cpp), so that its packing, tile
// addressing and edges are tested on CPUs without AMX. The model follows the
// instruction set's definitions; it says nothing about the hardware.
#include <cstdint>

#include "base/dtype.h"

namespace dml::test {

// bf16gemm_amx's contract (kernels/cpu/bf16gemm.h), C in f32 or bf16. Built with AVX512-BF16
// flags (the kernel's packing): call it only when cpu_isa() is avx512_bf16 or
// above.
void bf16gemm_amx_on_tile_model(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                                float alpha, const bf16* a, int64_t lda, const bf16* b, int64_t ldb,
                                float beta, float* c, int64_t ldc);
void bf16gemm_amx_on_tile_model(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                                float alpha, const bf16* a, int64_t lda, const bf16* b, int64_t ldb,
                                float beta, bf16* c, int64_t ldc);

}  // namespace dml::test
