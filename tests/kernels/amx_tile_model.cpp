// A software model of the AMX tile instructions bf16gemm_amx.cpp uses, and
// that file compiled against it (its entry point renamed, so the library's
// own stays distinct). Per thread: eight tiles of 16 rows x 64 bytes (the
// kernel's configuration); LDTILECFG only marks the tiles configured, and a
// load before it aborts. TDPBF16PS C, A, B adds, for each row m and column
// n of C and each pair q, A[m][2q] B[q][2n] then A[m][2q + 1] B[q][2n + 1]
// (bf16 widened to f32) to C[m][n]. Built with the kernel's AVX512-BF16
// flags and, like it, no standard-library template.
#include <immintrin.h>

#include <cstdlib>
#include <cstring>

#include "tests/kernels/amx_tile_model.h"

#undef _tile_loadconfig
#undef _tile_release
#undef _tile_zero
#undef _tile_loadd
#undef _tile_stored
#undef _tile_dpbf16ps

namespace {

thread_local unsigned char t_tiles[8][16][64];
thread_local bool t_configured = false;

float widen(const unsigned char* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  const uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

void tile_load(int t, const void* base, int64_t stride) {
  if (!t_configured) std::abort();
  for (int r = 0; r < 16; ++r)
    std::memcpy(t_tiles[t][r], static_cast<const char*>(base) + r * stride, 64);
}

void tile_store(int t, void* base, int64_t stride) {
  if (!t_configured) std::abort();
  for (int r = 0; r < 16; ++r)
    std::memcpy(static_cast<char*>(base) + r * stride, t_tiles[t][r], 64);
}

void tile_dpbf16ps(int c, int a, int b) {
  if (!t_configured) std::abort();
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 16; ++n) {
      float acc;
      std::memcpy(&acc, &t_tiles[c][m][4 * n], 4);
      for (int q = 0; q < 16; ++q) {
        acc += widen(&t_tiles[a][m][4 * q]) * widen(&t_tiles[b][q][4 * n]);
        acc += widen(&t_tiles[a][m][4 * q + 2]) * widen(&t_tiles[b][q][4 * n + 2]);
      }
      std::memcpy(&t_tiles[c][m][4 * n], &acc, 4);
    }
}

}  // namespace

#define _tile_loadconfig(config) (t_configured = true)
#define _tile_release() (t_configured = false)
#define _tile_zero(t) std::memset(t_tiles[t], 0, sizeof(t_tiles[t]))
#define _tile_loadd(t, base, stride) tile_load(t, base, stride)
#define _tile_stored(t, base, stride) tile_store(t, base, stride)
#define _tile_dpbf16ps(c, a, b) tile_dpbf16ps(c, a, b)

#define bf16gemm_amx bf16gemm_amx_model_entry
#include "kernels/cpu/bf16gemm_amx.cpp"
#undef bf16gemm_amx

namespace dml::test {

void bf16gemm_amx_on_tile_model(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                                float alpha, const bf16* a, int64_t lda, const bf16* b, int64_t ldb,
                                float beta, float* c, int64_t ldc) {
  cpu::bf16gemm_amx_model_entry(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void bf16gemm_amx_on_tile_model(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                                float alpha, const bf16* a, int64_t lda, const bf16* b, int64_t ldb,
                                float beta, bf16* c, int64_t ldc) {
  cpu::bf16gemm_amx_model_entry(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace dml::test
