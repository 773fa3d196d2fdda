// AMX bf16 GEMM: TDPBF16PS on tiles of 16 rows x 64 bytes, the tile
// registers configured once per thread (LDTILECFG, palette 1). Written from
// the instruction set's definitions; not verified on a CPU with AMX.
//
// TDPBF16PS C, A, B: for each row m of A and C, each pair q of A's 32 bf16
// and each column n of C's 16 f32,
//   C[m][n] += A[m][2q] B[q][2n] + A[m][2q + 1] B[q][2n + 1]
// so an A tile is 16 rows of op(A) x 32 consecutive k steps (row-major), and
// a B tile is 16 pairs of k steps x 16 columns in the pair-interleaved (VNNI)
// layout: one 16-wide pair panel of bf16gemm_pack.inc.
//
// op(A) is packed once, row-major, rows padded to 32 and k to 32 with zeros;
// each thread packs the 32-column blocks of op(B) it takes (two pair panels,
// pairs padded to 16 with zeros) and runs every 32 x 32 block of C in that
// column block as 2 x 2 C tiles (tiles 0-3) from two A tiles (4, 5) and two B
// tiles (6, 7), all of k at once; the C tiles are stored to memory and added
// to C with alpha and beta (and, for a bf16 C, rounded once).
//
// Compiled with the AMX and AVX512-BF16 flags: internal linkage throughout
// but for the entry points, as in bf16gemm_avx512.cpp.
#include <omp.h>

#include "kernels/cpu/bf16gemm.h"
#include "kernels/cpu/bf16gemm_pack.inc"

namespace dml::cpu {

namespace {

constexpr int64_t kTileK = 32;  // k steps in an A tile row, pairs x 2 in a B tile
constexpr int64_t kBlock = 32;  // rows and columns of C per block: 2 x 2 tiles of 16

// LDTILECFG's 64-byte operand.
struct alignas(64) TileConfig {
  uint8_t palette;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];  // bytes per row of each tile
  uint8_t rows[16];
};

// Tiles 0-7, each 16 rows x 64 bytes (16 f32 of C, 32 bf16 of A, 16 words of B).
void configure_tiles() {
  TileConfig cfg;
  std::memset(&cfg, 0, sizeof(cfg));
  cfg.palette = 1;
  for (int t = 0; t < 8; ++t) {
    cfg.colsb[t] = 64;
    cfg.rows[t] = 16;
  }
  _tile_loadconfig(&cfg);
}

// op(A) as rows of kpad bf16 (k steps past k zero), rows [m, mpad) zero.
void pack_a(bool trans_a, int64_t m, int64_t k, const uint16_t* a, int64_t lda, int64_t mpad,
            int64_t kpad, uint16_t* dst) {
  for (int64_t i = 0; i < mpad; ++i) {
    uint16_t* d = dst + i * kpad;
    if (i >= m) {
      std::memset(d, 0, sizeof(uint16_t) * kpad);
      continue;
    }
    if (trans_a)
      for (int64_t p = 0; p < k; ++p) d[p] = a[p * lda + i];
    else
      std::memcpy(d, a + i * lda, sizeof(uint16_t) * k);
    std::memset(d + k, 0, sizeof(uint16_t) * (kpad - k));
  }
}

// Columns [j0, j0 + 32) of op(B) as two 16-wide pair panels of kpad / 2 pairs
// each (pairs past k, columns past n zero).
void pack_b(bool trans_b, int64_t n, int64_t k, const uint16_t* b, int64_t ldb, int64_t j0,
            int64_t kpad, uint32_t* dst) {
  const int64_t pairs = ceil_div(k, 2), panel = kpad / 2 * 16;
  for (int v = 0; v < 2; ++v) {
    const int64_t j = j0 + 16 * v, count = min64(16, n - j);
    uint32_t* d = dst + v * panel;
    if (count <= 0) {
      std::memset(d, 0, sizeof(uint32_t) * panel);
      continue;
    }
    if (trans_b)
      pack_pairs_from_cols<16>(b + j * ldb, ldb, k, count, d);
    else
      pack_pairs_from_rows<16>(b + j, ldb, k, count, d);
    std::memset(d + pairs * 16, 0, sizeof(uint32_t) * (panel - pairs * 16));
  }
}

// The 32 x 32 block of C at (i0, j0), from packed A rows and B panels.
template <class CT>
void block(const uint16_t* ap, const uint32_t* bp, int64_t kpad, int64_t i0, int64_t j0, int64_t m,
           int64_t n, float alpha, float beta, CT* c, int64_t ldc) {
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  const uint16_t* a0 = ap + i0 * kpad;
  const uint16_t* a1 = a0 + 16 * kpad;
  const uint32_t* b1 = bp + kpad / 2 * 16;
  for (int64_t kk = 0; kk < kpad; kk += kTileK) {
    _tile_loadd(4, a0 + kk, kpad * 2);
    _tile_loadd(5, a1 + kk, kpad * 2);
    _tile_loadd(6, bp + kk / 2 * 16, 64);
    _tile_loadd(7, b1 + kk / 2 * 16, 64);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  alignas(64) float out[4][16 * 16];
  _tile_stored(0, out[0], 64);
  _tile_stored(1, out[1], 64);
  _tile_stored(2, out[2], 64);
  _tile_stored(3, out[3], 64);
  for (int t = 0; t < 4; ++t) {
    const int64_t row = i0 + 16 * (t / 2), col = j0 + 16 * (t % 2);
    const __mmask16 store = lanes(n - col);
    for (int64_t r = 0; r < 16 && row + r < m; ++r)
      if (store)
        update_c(c + (row + r) * ldc + col, store, _mm512_load_ps(out[t] + 16 * r), alpha, beta);
  }
}

thread_local WordBuffer t_pack_a, t_pack_b;

// The product into C of type CT (float, or uint16_t: bf16 bits).
template <class CT>
void product(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
             const bf16* a, int64_t lda, const bf16* b, int64_t ldb, float beta, CT* c,
             int64_t ldc) {
  const int64_t mpad = round_up(m, kBlock), kpad = round_up(k, kTileK);
  uint16_t* const ap = reinterpret_cast<uint16_t*>(t_pack_a.get(mpad * kpad / 2));
  pack_a(trans_a, m, k, reinterpret_cast<const uint16_t*>(a), lda, mpad, kpad, ap);
  const uint16_t* const bs = reinterpret_cast<const uint16_t*>(b);
  const int64_t col_blocks = ceil_div(n, kBlock);
  const int threads = int(min64(max_threads(m, n, k), col_blocks));
#pragma omp parallel num_threads(threads)
  {
    configure_tiles();
    uint32_t* const bp = t_pack_b.get(kpad * 16);
#pragma omp for schedule(static)
    for (int64_t jb = 0; jb < col_blocks; ++jb) {
      pack_b(trans_b, n, k, bs, ldb, jb * kBlock, kpad, bp);
      for (int64_t i0 = 0; i0 < m; i0 += kBlock)
        block(ap, bp, kpad, i0, jb * kBlock, m, n, alpha, beta, c, ldc);
    }
    _tile_release();
  }
}

}  // namespace

void bf16gemm_amx(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const bf16* a, int64_t lda, const bf16* b, int64_t ldb, float beta, float* c,
                  int64_t ldc) {
  product(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void bf16gemm_amx(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const bf16* a, int64_t lda, const bf16* b, int64_t ldb, float beta, bf16* c,
                  int64_t ldc) {
  product(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, reinterpret_cast<uint16_t*>(c),
          ldc);
}

}  // namespace dml::cpu
