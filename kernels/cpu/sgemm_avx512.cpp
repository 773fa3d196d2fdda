// AVX-512 SGEMM in the packed-panel (GotoBLAS / BLIS) style, plus a
// k-contiguous path for A B^T with long k.
//
// Packed path. Loop nest, outermost first, for one thread:
//   jc: its columns of C in blocks of nc      (packed B block, kc x nc)
//   pc: k in blocks of kc
//   ic: its rows of C in blocks of mc          (A block, mc x kc, in L2)
//   jr: NR-wide panels of the B block          (one B micro-panel, kc x NR)
//   ir: MR-high panels of the A block
//   microkernel: C[MR x NR] (+)= A panel x B panel in MR * NR / 16 zmm accumulators,
//                one zmm load of B per 16 columns and one broadcast of A per row
//                for each k step.
// B is packed into the order the microkernel reads it (NR floats per k step),
// partial panels padded with zeros, so the microkernel always runs whole tiles
// and only its loads and stores of C are masked at the edges. A transposed
// op(A) is packed likewise (MR floats per k step); a row-major op(A) is read in
// place (its MR rows broadcast from their own addresses), but for a partial
// last tile.
//
// Several tile shapes are compiled (MR x NR = 8x48, 6x64, 14x32, 24x16); each
// call takes the one a cost model expects fastest, mostly the one that pads m
// and n least (64 columns in 48-wide panels would waste a third of the work).
//
// Threads form a tm x tn grid: tm splits the rows of C, tn the columns. The tm
// threads of a column group share its B block (each packs a part, then a
// barrier); a thread that has its B to itself (tm == 1) and a single A block
// uses each B block once, so its blocks are small and, when B is large enough
// to come from memory, the next one is prefetched while the current one runs.
//
// k-contiguous path (run_dot): for !trans_a, trans_b and long k (the
// backward-filter product dY x col^T), both operands are stored along k, so
// 4 x 6 tiles of C take dot products 16 k steps per zmm, summed across lanes
// once per k block, from plain row copies: no transposing pack at all.
//
// B from a MatrixSource (sgemm_avx512.h: a convolution's column matrix,
// never stored): pack_b asks the source for each panel's block, written in
// the microkernel's order directly (k steps are the source's rows) or, with
// trans_b, as k-contiguous rows into a scratch panel transposed from there;
// the k-contiguous path asks it for its row copies. Nothing is prefetched
// for such an operand.
//
// This file alone is compiled with AVX-512 enabled. Everything but the two
// entry points has internal linkage and no standard-library template is
// instantiated here, so the linker cannot pick AVX-512 copies of shared inline
// functions for other translation units.
#include "kernels/cpu/sgemm_avx512.h"

#include <immintrin.h>
#include <omp.h>

#include <new>

namespace dml::cpu {

namespace {

// ---- blocking --------------------------------------------------------------
// k block: a microkernel call runs kc k steps; its B micro-panel (kc x NR,
// 32-64 KiB) stays in L1 or L2 for all the A panels of the block.
constexpr int64_t kKC = 256;
// Most floats in an A block (mc x kc): about a quarter of the 1 MiB L2.
constexpr int64_t kABlockFloats = 192 * 256;
// Most columns in a B block; a block is kc x nc floats (4 MiB at 4096).
constexpr int64_t kNC = 4096;
// Floats in a B block that is used once, while the next one is prefetched.
constexpr int64_t kStreamBFloats = 64 * 1024;
// Operands larger than this are likely to come from memory rather than L3:
// their next block is prefetched in software (measured: +6-20% on a 29 MiB
// operand; -5% on L3-resident ones, where the hardware prefetchers suffice).
constexpr double kPrefetchBytes = 8.0 * 1024 * 1024;
// Below this many flops one thread does the whole product.
constexpr double kParallelFlops = 2.0 * 64 * 64 * 64;

#include "kernels/cpu/avx512_blocking.inc"

// Packing buffers, kept per calling thread between calls (a fresh allocation
// of this size costs page faults every call).
struct Buffer {
  float* data = nullptr;
  int64_t floats = 0;
  ~Buffer() { release(); }
  void release() {
    if (data) ::operator delete(data, std::align_val_t(64));
    data = nullptr;
    floats = 0;
  }
  float* get(int64_t n) {
    if (n > floats) {
      release();
      data = static_cast<float*>(::operator new(size_t(n) * sizeof(float), std::align_val_t(64)));
      floats = n;
    }
    return data;
  }
};
// t_fill: k-contiguous rows of a MatrixSource operand, transposed into B
// panels from there.
thread_local Buffer t_pack_a, t_pack_b, t_fill;

// ---- packing ---------------------------------------------------------------
// A panel of width W (MR for A, NR for B) holds, for each k step p < kc, W
// consecutive floats: dst[p * W + j] for j < W. Lanes j >= count (past the edge
// of the matrix or the block) are zero.

// Panels whose k steps are rows of the source: panel element (p, j) is
// src[p * ld + j]. Packs `count` columns into ceil(count / W) consecutive
// panels. Rows are walked in short runs across all panels, so the source is
// read along its rows (a long-stride walk down one panel defeats the
// prefetchers).
template <int W>
void pack_along_rows(const float* src, int64_t ld, int64_t kc, int64_t count, float* dst) {
  constexpr int kV = (W + 15) / 16;
  constexpr int64_t kRun = 8;
  const int64_t panels = ceil_div(count, W);
  for (int64_t p0 = 0; p0 < kc; p0 += kRun) {
    const int64_t p1 = min64(kc, p0 + kRun);
    for (int64_t q = 0; q < panels; ++q) {
      const float* s = src + q * W;
      float* d = dst + q * W * kc;
      const int64_t valid = count - q * W;
      if (W % 16 == 0 && valid >= W) {
        for (int64_t p = p0; p < p1; ++p)
#pragma GCC unroll 8
          for (int v = 0; v < kV; ++v)
            _mm512_store_ps(d + p * W + 16 * v, _mm512_loadu_ps(s + p * ld + 16 * v));
        continue;
      }
      __mmask16 load_mask[kV], store_mask[kV];
#pragma GCC unroll 8
      for (int v = 0; v < kV; ++v) {
        load_mask[v] = lanes(valid - 16 * v);
        store_mask[v] = lanes(W - 16 * v);
      }
      for (int64_t p = p0; p < p1; ++p)
#pragma GCC unroll 8
        for (int v = 0; v < kV; ++v)
          _mm512_mask_storeu_ps(d + p * W + 16 * v, store_mask[v],
                                _mm512_maskz_loadu_ps(load_mask[v], s + p * ld + 16 * v));
    }
  }
}

// out[t] = column t of the 8 x 8 block at src (rows src_ld apart).
inline void transpose8x8(const float* src, int64_t src_ld, __m256 out[8]) {
  const __m256 r0 = _mm256_loadu_ps(src + 0 * src_ld), r1 = _mm256_loadu_ps(src + 1 * src_ld),
               r2 = _mm256_loadu_ps(src + 2 * src_ld), r3 = _mm256_loadu_ps(src + 3 * src_ld),
               r4 = _mm256_loadu_ps(src + 4 * src_ld), r5 = _mm256_loadu_ps(src + 5 * src_ld),
               r6 = _mm256_loadu_ps(src + 6 * src_ld), r7 = _mm256_loadu_ps(src + 7 * src_ld);
  // Rows interleaved in pairs: t0 = a0 b0 a1 b1 | a4 b4 a5 b5, t1 = a2 b2 a3 b3 | a6 b6 a7 b7.
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1),
               t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3),
               t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
               t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  // Then in fours: s0 = a0 b0 c0 d0 | a4 b4 c4 d4, s1 = column 1 | 5, s2 = 2 | 6, s3 = 3 | 7.
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE),
               s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE),
               s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE),
               s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  out[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  out[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  out[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  out[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  out[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  out[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  out[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  out[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// One panel whose k steps are columns of the source: panel element (p, j) is
// src[j * ld + p], for j < count. `readable` source rows exist from src on
// (>= count); 8-row groups that lie inside them are transposed in registers.
template <int W>
void pack_along_cols(const float* src, int64_t ld, int64_t kc, int64_t count, int64_t readable,
                     float* dst) {
  for (int j0 = 0; j0 < W; j0 += 8) {
    const int width = W - j0 < 8 ? W - j0 : 8;  // panel lanes this group fills
    const __mmask8 store_mask = __mmask8((1u << width) - 1);
    const __mmask8 valid_mask = __mmask8((1u << min64(8, max64(0, count - j0))) - 1);
    const float* s = src + j0 * ld;
    float* d = dst + j0;
    int64_t p = 0;
    if (valid_mask != 0 && j0 + 8 <= readable) {
      for (; p + 8 <= kc; p += 8) {
        __m256 col[8];
        transpose8x8(s + p, ld, col);
#pragma GCC unroll 8
        for (int t = 0; t < 8; ++t)
          _mm256_mask_storeu_ps(d + (p + t) * W, store_mask,
                                _mm256_maskz_mov_ps(valid_mask, col[t]));
      }
    }
    for (; p < kc; ++p)
      for (int j = 0; j < width; ++j) d[p * W + j] = j0 + j < count ? s[j * ld + p] : 0.f;
  }
}

// ---- microkernel -----------------------------------------------------------

// C[mr x nr] = alpha * (A panel x B panel) + beta * C for one MR x NR tile,
// mr <= MR, nr <= NR; beta == 0 never reads C.
// A is a packed panel (A(r, p) = pa[p * MR + r]) or, with kDirectA, read in
// place from a row-major op(A) (A(r, p) = pa[r * lda + p]).
template <int MR, int NV, bool kDirectA>
__attribute__((always_inline)) inline void micro_kernel(int64_t kc, const float* __restrict pa,
                                                        int64_t lda, const float* __restrict pb,
                                                        float* __restrict c, int64_t ldc,
                                                        float alpha, float beta, int64_t mr,
                                                        int64_t nr) {
  constexpr int NR = 16 * NV;
  __m512 acc[MR][NV];
#pragma GCC unroll 64
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();

#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    __m512 bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_load_ps(pb + 16 * v);
#pragma GCC unroll 64
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(kDirectA ? pa[r * lda] : pa[r]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
    pa += kDirectA ? 1 : MR;
    pb += NR;
  }

  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  if (mr == MR && nr == NR) {
    if (beta == 0.f) {
#pragma GCC unroll 64
      for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v)
          _mm512_storeu_ps(c + r * ldc + 16 * v, _mm512_mul_ps(va, acc[r][v]));
    } else {
#pragma GCC unroll 64
      for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) {
          float* cp = c + r * ldc + 16 * v;
          _mm512_storeu_ps(cp,
                           _mm512_fmadd_ps(vb, _mm512_loadu_ps(cp), _mm512_mul_ps(va, acc[r][v])));
        }
    }
    return;
  }
  __mmask16 mask[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) mask[v] = lanes(nr - 16 * v);
#pragma GCC unroll 64
  for (int r = 0; r < MR; ++r) {
    if (r >= mr) break;
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      float* cp = c + r * ldc + 16 * v;
      __m512 x = _mm512_mul_ps(va, acc[r][v]);
      if (beta != 0.f) x = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask[v], cp), x);
      _mm512_mask_storeu_ps(cp, mask[v], x);
    }
  }
}

// Walks the cache lines of rows [0, rows) x floats [0, cols) of a row-major
// operand, prefetching a few at a time.
struct Prefetch {
  const float* row = nullptr;
  int64_t ld = 0, rows = 0, cols = 0;
  int64_t col = 0;
  int64_t lines() const { return rows * ceil_div(cols, 16); }
  void issue(int64_t count) {
    for (; count > 0 && rows > 0; --count) {
      _mm_prefetch(reinterpret_cast<const char*>(row + col), _MM_HINT_T0);
      col += 16;
      if (col >= cols) {
        col = 0;
        row += ld;
        --rows;
      }
    }
  }
};

// ---- driver ----------------------------------------------------------------

struct Problem {
  bool trans_a, trans_b;
  int64_t m, n, k;
  float alpha;
  const float* a;
  int64_t lda;
  const float* b;
  int64_t ldb;
  float beta;
  float* c;
  int64_t ldc;
  const MatrixSource* b_fill = nullptr;  // B's source when it is not in memory (b is null)

  // Addresses of op(A)[i][p] and op(B)[p][j].
  const float* a_at(int64_t i, int64_t p) const {
    return trans_a ? a + p * lda + i : a + i * lda + p;
  }
  const float* b_at(int64_t p, int64_t j) const {
    return trans_b ? b + j * ldb + p : b + p * ldb + j;
  }
};

struct Plan {
  int threads, tm, tn;  // threads = tm * tn; tm splits rows, tn columns
  int64_t kc;           // k block
  int64_t nc;           // columns per B block (multiple of NR)
  int64_t jc_steps;     // B blocks per column group (the same for every thread)
  int64_t mc;           // most rows per A block (multiple of MR)
  bool direct_a;        // read a row-major op(A) in place (but a partial last tile)
  bool prefetch;        // prefetch the next B block's source (with tm == 1)
  float* b_pack;        // tn blocks of nc x kc floats
  float* a_pack;        // `threads` blocks of mc x kc floats
};

// Packs rows [i0, i0 + rows) x k steps [p0, p0 + kc) of op(A) as MR-high panels.
template <int MR>
void pack_a(const Problem& pr, int64_t i0, int64_t rows, int64_t p0, int64_t kc, float* dst) {
  if (pr.trans_a) {
    pack_along_rows<MR>(pr.a_at(i0, p0), pr.lda, kc, rows, dst);
    return;
  }
  for (int64_t i = 0; i < rows; i += MR)
    pack_along_cols<MR>(pr.a_at(i0 + i, p0), pr.lda, kc, min64(MR, rows - i), pr.m - i0 - i,
                        dst + i * kc);
}

// Packs k steps [p0, p0 + kc) x columns [j0, j0 + cols) of op(B) as NR-wide panels.
// pack_b from a MatrixSource. Without trans_b the source's rows are k steps,
// so each panel is filled in the microkernel's order in place (its lanes past
// the edge zeroed); with trans_b a panel's NR source rows are filled along k
// into t_fill, then transposed like rows in memory.
template <int NR>
void fill_b(const MatrixSource& src, bool trans_b, int64_t p0, int64_t kc, int64_t j0, int64_t cols,
            float* dst) {
  for (int64_t j = 0; j < cols; j += NR) {
    const int64_t count = min64(NR, cols - j);
    float* const panel = dst + j * kc;
    if (trans_b) {
      float* const rows = t_fill.get(NR * kc);
      src.fill(src.ctx, j0 + j, count, p0, kc, rows, kc);
      pack_along_cols<NR>(rows, kc, kc, count, count, panel);
      continue;
    }
    src.fill(src.ctx, p0, kc, j0 + j, count, panel, NR);
    if (count < NR)
      for (int64_t p = 0; p < kc; ++p)
        for (int64_t q = count; q < NR; ++q) panel[p * NR + q] = 0.f;
  }
}

template <int NR>
void pack_b(const Problem& pr, int64_t p0, int64_t kc, int64_t j0, int64_t cols, float* dst) {
  if (pr.b_fill) return fill_b<NR>(*pr.b_fill, pr.trans_b, p0, kc, j0, cols, dst);
  if (!pr.trans_b) {
    pack_along_rows<NR>(pr.b_at(p0, j0), pr.ldb, kc, cols, dst);
    return;
  }
  for (int64_t j = 0; j < cols; j += NR)
    pack_along_cols<NR>(pr.b_at(p0, j0 + j), pr.ldb, kc, min64(NR, cols - j), pr.n - j0 - j,
                        dst + j * kc);
}

// The source of op(B) at k steps [p0, p0 + kc) x columns [j0, j0 + cols).
Prefetch b_source(const Problem& pr, int64_t p0, int64_t kc, int64_t j0, int64_t cols) {
  if (pr.trans_b) return {pr.b_at(p0, j0), pr.ldb, cols, kc, 0};
  return {pr.b_at(p0, j0), pr.ldb, kc, cols, 0};
}

// Thread t's part of the product. Every thread runs the same jc and pc steps,
// so the barriers of a column group line up.
template <int MR, int NV>
void run_thread(const Problem& pr, const Plan& pl, int t) {
  constexpr int NR = 16 * NV;
  const int im = t / pl.tn, in = t % pl.tn;
  // Whole tiles for each thread, spread as evenly as they go.
  const int64_t row_tiles = ceil_div(pr.m, MR), col_tiles = ceil_div(pr.n, NR);
  const int64_t r0 = min64(pr.m, row_tiles * im / pl.tm * MR);
  const int64_t r1 = min64(pr.m, row_tiles * (im + 1) / pl.tm * MR);
  const int64_t c0 = min64(pr.n, col_tiles * in / pl.tn * NR);
  const int64_t c1 = min64(pr.n, col_tiles * (in + 1) / pl.tn * NR);
  float* const b_pack = pl.b_pack + in * pl.nc * pl.kc;
  float* const a_pack = pl.a_pack + t * pl.mc * pl.kc;
  // Equal A blocks of at most pl.mc rows.
  const int64_t rows = r1 - r0;
  const int64_t mc = max64(MR, round_up(ceil_div(rows, max64(1, ceil_div(rows, pl.mc))), MR));

  for (int64_t step = 0; step < pl.jc_steps; ++step) {
    const int64_t jc = c0 + step * pl.nc;
    const int64_t nc = max64(0, min64(pl.nc, c1 - jc));
    const int64_t panels = ceil_div(nc, NR);
    for (int64_t pc = 0; pc < pr.k; pc += pl.kc) {
      const int64_t kc = min64(pl.kc, pr.k - pc);
      // This thread's share of the group's B panels.
      const int64_t q0 = panels * im / pl.tm, q1 = panels * (im + 1) / pl.tm;
      if (q1 > q0)
        pack_b<NR>(pr, pc, kc, jc + q0 * NR, min64(nc, q1 * NR) - q0 * NR, b_pack + q0 * NR * kc);
      if (pl.tm > 1) {
#pragma omp barrier
      }
      // A thread with its own B prefetches the source of the block it packs
      // next, spread over this block's microkernel calls, so that reading B
      // (often from memory: an im2col matrix is tens of MiB) overlaps the FMAs.
      Prefetch next;
      if (pl.tm == 1 && pl.prefetch) {
        if (pc + pl.kc < pr.k)
          next = b_source(pr, pc + pl.kc, min64(pl.kc, pr.k - pc - pl.kc), jc, nc);
        else if (step + 1 < pl.jc_steps && jc + pl.nc < c1)
          next = b_source(pr, 0, min64(pl.kc, pr.k), jc + pl.nc, min64(pl.nc, c1 - jc - pl.nc));
      }
      const int64_t per_call = ceil_div(next.lines(), max64(1, ceil_div(rows, MR) * panels));
      const float beta = pc == 0 ? pr.beta : 1.f;
      for (int64_t ic = r0; ic < r1; ic += mc) {
        const int64_t mcur = min64(mc, r1 - ic);
        const int64_t direct_rows = pl.direct_a ? mcur / MR * MR : 0;
        pack_a<MR>(pr, ic + direct_rows, mcur - direct_rows, pc, kc, a_pack + direct_rows * kc);
        for (int64_t q = 0; q < panels; ++q) {
          const int64_t j = jc + q * NR, nr = min64(NR, nc - q * NR);
          const float* pb = b_pack + q * NR * kc;
          float* const cq = pr.c + ic * pr.ldc + j;
          int64_t i = 0;
          for (; i < direct_rows; i += MR) {
            next.issue(per_call);
            micro_kernel<MR, NV, true>(kc, pr.a_at(ic + i, pc), pr.lda, pb, cq + i * pr.ldc, pr.ldc,
                                       pr.alpha, beta, MR, nr);
          }
          for (; i < mcur; i += MR) {
            next.issue(per_call);
            micro_kernel<MR, NV, false>(kc, a_pack + i * kc, 0, pb, cq + i * pr.ldc, pr.ldc,
                                        pr.alpha, beta, min64(MR, mcur - i), nr);
          }
        }
      }
      if (pl.tm > 1) {
#pragma omp barrier
      }
    }
  }
}

// Whether the microkernel may broadcast from MR rows of a row-major op(A) in
// place: not when their cache lines pile into a few of L1's 64 sets (rows a
// multiple of 4 KiB apart share one set; 24 of them in a 12-way set thrash).
bool direct_a_ok(const Problem& pr, int mr) {
  if (pr.trans_a) return false;
  int per_set[64] = {};
  for (int r = 0; r < mr; ++r)
    if (++per_set[(int64_t(r) * pr.lda * 4 / 64) % 64] > 2) return false;
  return true;
}

// Cycles the busiest thread of a tm x tn grid would take, roughly: its FMAs
// (two 16-lane FMAs a cycle, edge tiles counted whole), its packing, reading
// B blocks other threads packed, and barriers.
double grid_cost(const Problem& pr, int mr, int nr, int tm, int tn) {
  const double rows = double(ceil_div(ceil_div(pr.m, mr), tm) * mr);
  const double cols = double(ceil_div(ceil_div(pr.n, nr), tn) * nr);
  const double k = double(pr.k);
  const double col_blocks = double(ceil_div(int64_t(cols), kNC));
  const double compute = rows * cols * k / 32.0;
  const double pack_a = direct_a_ok(pr, mr) ? 0.0 : 0.5 * rows * k * col_blocks;
  const double pack_b = 0.5 * cols * k / tm;
  const double shared_b = tm > 1 ? 0.25 * cols * k * double(tm - 1) / tm : 0.0;
  const double sync = tm > 1 ? 2.0 * col_blocks * double(ceil_div(pr.k, kKC)) * 1000.0 : 0.0;
  return compute + pack_a + pack_b + shared_b + sync;
}

int max_threads(const Problem& pr) {
  const double flops = 2.0 * double(pr.m) * double(pr.n) * double(pr.k);
  if (omp_in_parallel() || flops < kParallelFlops) return 1;
  return max64(1, omp_get_max_threads());
}

template <int MR, int NV>
Plan make_plan(const Problem& pr, int threads) {
  constexpr int NR = 16 * NV;
  Plan pl{};
  pl.threads = threads;
  pl.tm = threads;
  pl.tn = 1;
  double best = -1;
  for (int tm = 1; tm <= threads; ++tm) {
    if (threads % tm) continue;
    const double cost = grid_cost(pr, MR, NR, tm, threads / tm);
    if (best < 0 || cost < best) {
      best = cost;
      pl.tm = tm;
      pl.tn = threads / tm;
    }
  }
  pl.kc = ceil_div(pr.k, ceil_div(pr.k, kKC));
  const int64_t thread_rows = ceil_div(ceil_div(pr.m, MR), pl.tm) * MR;
  pl.mc = min64(max64(MR, kABlockFloats / pl.kc / MR * MR), thread_rows);
  const int64_t group_panels = ceil_div(ceil_div(pr.n, NR), pl.tn);
  // A thread with its own B and one A block uses each B block once: small
  // blocks, each streaming into L2 while the one before it is used.
  const int64_t nc_max =
      pl.tm == 1 && thread_rows <= pl.mc ? max64(NR, kStreamBFloats / pl.kc / NR * NR) : kNC;
  pl.jc_steps = ceil_div(group_panels, nc_max / NR);
  pl.prefetch = !pr.b_fill && 4.0 * double(pr.k) * double(pr.n) > kPrefetchBytes;
  pl.direct_a = direct_a_ok(pr, MR);
  pl.nc = ceil_div(group_panels, pl.jc_steps) * NR;
  pl.b_pack = t_pack_b.get(pl.tn * pl.nc * pl.kc);
  pl.a_pack = t_pack_a.get(pl.threads * pl.mc * pl.kc);
  return pl;
}

template <int MR, int NV>
void run(const Problem& pr, int threads) {
  const Plan pl = make_plan<MR, NV>(pr, threads);
  const auto part = [&](const Plan& p, int t) { run_thread<MR, NV>(pr, p, t); };
  if (pl.threads == 1) {
    part(pl, 0);
    return;
  }
#pragma omp parallel num_threads(pl.threads)
  {
    if (omp_get_num_threads() == pl.threads) {
      part(pl, omp_get_thread_num());
    } else if (omp_get_thread_num() == 0) {  // a smaller team than asked for: one thread
      Plan one = pl;
      one.threads = one.tm = one.tn = 1;
      one.jc_steps = ceil_div(ceil_div(pr.n, 16 * NV), pl.nc / (16 * NV));
      part(one, 0);
    }
  }
}

// The tile shapes, as MR x (NV zmm = 16 NV columns), and how fast each runs
// whole tiles relative to the best (measured on one core: 1024^3, 2048^3 with
// trans_a, 512 x 6272 x 4608; 6x64 ran at 96% of the FMA peak).
struct Shape {
  int mr, nr;
  double speed;
};
constexpr Shape kShapes[] = {{8, 48, 0.95}, {6, 64, 1.0}, {14, 32, 0.97}, {24, 16, 0.88}};

// The shape with the least expected time: padded work over speed.
int choose_shape(const Problem& pr, int threads) {
  int best = 0;
  double best_cost = -1;
  for (int s = 0; s < int(sizeof(kShapes) / sizeof(kShapes[0])); ++s) {
    double cost = -1;
    for (int tm = 1; tm <= threads; ++tm)
      if (threads % tm == 0) {
        const double c = grid_cost(pr, kShapes[s].mr, kShapes[s].nr, tm, threads / tm);
        if (cost < 0 || c < cost) cost = c;
      }
    cost /= kShapes[s].speed;
    if (best_cost < 0 || cost < best_cost) {
      best_cost = cost;
      best = s;
    }
  }
  return best;
}

// ---- k-contiguous path -------------------------------------------------------
// C = alpha * A B^T + beta * C with A (m x k) and B (n x k) both stored along k
// (!trans_a, trans_b): the backward-filter product dY x col^T, where k (images
// x pixels) is long and m, n are channel counts. Packing would transpose both
// operands; instead DM rows of A and DN rows of B are read in place, 16 k steps
// per zmm, into DM x DN accumulators that are summed across lanes once per k
// block. Each thread owns whole tiles of C, so no packing and no barriers.
constexpr int kDM = 4, kDN = 6;
// A k block keeps the rows of A one thread sweeps (m x kc floats) within about
// half of L2, and the DN rows of B (DN x kc) within L1.
constexpr int64_t kDotAFloats = 128 * 1024;
constexpr int64_t kDotMinKC = 256, kDotMaxKC = 1024;

// out lane 4 * i + j = sum of the lanes of v[i + 4 * j] (i, j < 4): four folds,
// each halving the vectors and doubling the partial sums per lane group. (The
// masked intrinsics with a full mask are the plain instructions; GCC 12 warns
// about the undefined source operand of the unmasked ones.)
inline __m512 reduce16(const __m512 v[16]) {
  constexpr __mmask16 kAll = 0xFFFF;
  __m512 w[8], x[4], y[2];
#pragma GCC unroll 8
  for (int t = 0; t < 8; ++t) {  // w[t]: 8 partial sums of v[2t] in lanes 0-7, of v[2t+1] in 8-15
    const __m512 a = v[2 * t], b = v[2 * t + 1];
    w[t] = _mm512_add_ps(_mm512_mask_shuffle_f32x4(a, kAll, a, b, 0x44),
                         _mm512_mask_shuffle_f32x4(a, kAll, a, b, 0xEE));
  }
#pragma GCC unroll 4
  for (int t = 0; t < 4; ++t) {  // 128-bit lane L of x[t]: 4 partial sums of v[4t + L]
    const __m512 a = w[2 * t], b = w[2 * t + 1];
    x[t] = _mm512_add_ps(_mm512_mask_shuffle_f32x4(a, kAll, a, b, 0x88),
                         _mm512_mask_shuffle_f32x4(a, kAll, a, b, 0xDD));
  }
#pragma GCC unroll 2
  for (int t = 0; t < 2; ++t) {  // lane L of y[t]: 2 partial sums each of v[8t + L], v[8t + 4 + L]
    const __m512 a = x[2 * t], b = x[2 * t + 1];
    y[t] = _mm512_add_ps(_mm512_mask_unpacklo_ps(a, kAll, a, b),
                         _mm512_mask_unpackhi_ps(a, kAll, a, b));
  }
  return _mm512_add_ps(_mm512_shuffle_ps(y[0], y[1], 0x44), _mm512_shuffle_ps(y[0], y[1], 0xEE));
}

// C(i, j) = alpha * sum + beta * C(i, j) for `count` consecutive elements of C
// from c, sums in s[0, count); beta == 0 never reads C.
inline void update4(float* c, const float* s, int64_t count, float alpha, float beta) {
  const __mmask8 mask = __mmask8((1u << count) - 1);
  __m128 x = _mm_mul_ps(_mm_set1_ps(alpha), _mm_loadu_ps(s));
  if (beta != 0.f) x = _mm_fmadd_ps(_mm_set1_ps(beta), _mm_maskz_loadu_ps(mask, c), x);
  _mm_mask_storeu_ps(c, mask, x);
}

// Rows x of X (m_x x k) times rows y of Y (n_y x k), for the tiles of
// [x0, x1) x [y0, y1); k steps [p0, p0 + kc). Row-major C holds X Y^T, or with
// kSwapped its transpose (X = B, Y = A): either way each thread's tiles go to
// four or fewer consecutive floats of a row of C per 128-bit result lane.
struct DotArgs {
  const float* x;
  int64_t ldx;
  const float* y;
  int64_t ldy;
  float* c;
  int64_t ldc;
  float alpha;
  const MatrixSource* x_fill = nullptr;  // X's or Y's source when it is not in memory
  const MatrixSource* y_fill = nullptr;
};

template <bool kSwapped>
void dot_block(const DotArgs& d, int64_t x0, int64_t x1, int64_t y0, int64_t y1, int64_t p0,
               int64_t kc, float beta, Prefetch next) {
  // The prefetches spread evenly over the tiles of one column.
  const int64_t per_tile = ceil_div(next.lines(), ceil_div(x1 - x0, kDM));
  for (int64_t j = y0; j < y1; j += kDN) {
    // Rows past the edge repeat the last one; their sums are not stored.
    const float* yr[kDN];
    for (int t = 0; t < kDN; ++t) yr[t] = d.y + min64(j + t, y1 - 1) * d.ldy + p0;
    const int64_t dn = min64(kDN, y1 - j);
    for (int64_t i = x0; i < x1; i += kDM) {
      const float* xr[kDM];
      for (int t = 0; t < kDM; ++t) xr[t] = d.x + min64(i + t, x1 - 1) * d.ldx + p0;
      const int64_t dm = min64(kDM, x1 - i);
      next.issue(per_tile);

      __m512 acc[kDM][kDN];
#pragma GCC unroll 8
      for (int a = 0; a < kDM; ++a)
#pragma GCC unroll 8
        for (int b = 0; b < kDN; ++b) acc[a][b] = _mm512_setzero_ps();
      int64_t p = 0;
#pragma GCC unroll 2
      for (; p + 16 <= kc; p += 16) {
        __m512 xv[kDM];
#pragma GCC unroll 8
        for (int a = 0; a < kDM; ++a) xv[a] = _mm512_loadu_ps(xr[a] + p);
#pragma GCC unroll 8
        for (int b = 0; b < kDN; ++b) {
          const __m512 yv = _mm512_loadu_ps(yr[b] + p);
#pragma GCC unroll 8
          for (int a = 0; a < kDM; ++a) acc[a][b] = _mm512_fmadd_ps(xv[a], yv, acc[a][b]);
        }
      }
      if (p < kc) {
        const __mmask16 mask = lanes(kc - p);
        __m512 xv[kDM];
#pragma GCC unroll 8
        for (int a = 0; a < kDM; ++a) xv[a] = _mm512_maskz_loadu_ps(mask, xr[a] + p);
#pragma GCC unroll 8
        for (int b = 0; b < kDN; ++b) {
          const __m512 yv = _mm512_maskz_loadu_ps(mask, yr[b] + p);
#pragma GCC unroll 8
          for (int a = 0; a < kDM; ++a) acc[a][b] = _mm512_fmadd_ps(xv[a], yv, acc[a][b]);
        }
      }

      // Two reductions: y columns 0-3, then 4-5 (zeros for 6-7). Unswapped,
      // lane 4a + b holds the tile's (a, b): row a of C, 4 columns per lane
      // group. Swapped, lane 4b + a: row b of C (a column of the tile).
      static_assert(kDM == 4 && kDN > 4 && kDN <= 8);
      alignas(64) float sums[2][16];
      for (int h = 0; h < 2; ++h) {
        __m512 v[16];
#pragma GCC unroll 16
        for (int t = 0; t < 16; ++t) {
          const int a = kSwapped ? t / 4 : t % 4, b = 4 * h + (kSwapped ? t % 4 : t / 4);
          v[t] = b < kDN ? acc[a][b] : _mm512_setzero_ps();
        }
        _mm512_store_ps(sums[h], reduce16(v));
      }
      if (!kSwapped) {
        for (int64_t a = 0; a < dm; ++a) {
          float* cr = d.c + (i + a) * d.ldc + j;
          update4(cr, sums[0] + 4 * a, min64(4, dn), d.alpha, beta);
          if (dn > 4) update4(cr + 4, sums[1] + 4 * a, dn - 4, d.alpha, beta);
        }
      } else {
        for (int64_t b = 0; b < dn; ++b)
          update4(d.c + (j + b) * d.ldc + i, sums[b / 4] + 4 * (b % 4), dm, d.alpha, beta);
      }
    }
  }
}

// Copies rows [r0, r1) x k steps [p0, p0 + kc) of a row-major operand (or
// fills them from its source) to dst, rows ld floats apart.
void copy_rows(const float* src, int64_t lds, const MatrixSource* fill, int64_t r0, int64_t r1,
               int64_t p0, int64_t kc, float* dst, int64_t ld) {
  if (fill) return fill->fill(fill->ctx, r0, r1 - r0, p0, kc, dst, ld);
  for (int64_t r = r0; r < r1; ++r) {
    const float* s = src + r * lds + p0;
    float* d = dst + (r - r0) * ld;
    int64_t p = 0;
    for (; p + 16 <= kc; p += 16) _mm512_storeu_ps(d + p, _mm512_loadu_ps(s + p));
    if (p < kc)
      _mm512_mask_storeu_ps(d + p, lanes(kc - p), _mm512_maskz_loadu_ps(lanes(kc - p), s + p));
  }
}

// One thread's tiles: all rows of X, Y rows [y0, y1). Each k block of X and
// each DN-row tile of Y are copied first, rows a cache line more than kc
// apart: operands with power-of-two row strides (k = 8192 is common) would
// otherwise put every row of a tile in the same cache sets.
template <bool kSwapped>
void dot_thread(const Problem& pr, const DotArgs& d, int64_t x_rows, int64_t y0, int64_t y1,
                int64_t kc, bool prefetch, float* buf) {
  const int64_t ld = kc + 16;
  float* const xbuf = buf;
  float* const ybuf = buf + x_rows * ld;
  DotArgs local = d;
  for (int64_t pc = 0; pc < pr.k; pc += kc) {
    const int64_t kcur = min64(kc, pr.k - pc);
    copy_rows(d.x, d.ldx, d.x_fill, 0, x_rows, pc, kcur, xbuf, ld);
    for (int64_t j = y0; j < y1; j += kDN) {
      const int64_t j1 = min64(y1, j + kDN);
      copy_rows(d.y, d.ldy, d.y_fill, j, j1, pc, kcur, ybuf, ld);
      // The Y tile after this one streams in (from memory, often) meanwhile.
      Prefetch next;
      if (prefetch && j1 < y1)
        next = {d.y + j1 * d.ldy + pc, d.ldy, min64(kDN, y1 - j1), kcur, 0};
      else if (prefetch && pc + kc < pr.k)
        next = {d.y + y0 * d.ldy + pc + kc, d.ldy, min64(kDN, y1 - y0), min64(kc, pr.k - pc - kc),
                0};
      local.x = xbuf;
      local.ldx = ld;
      local.x_fill = local.y_fill = nullptr;
      local.y = ybuf;
      local.ldy = ld;
      local.c = kSwapped ? d.c + j * d.ldc : d.c + j;  // tile column 0 is Y row j
      dot_block<kSwapped>(local, 0, x_rows, 0, j1 - j, 0, kcur, pc == 0 ? pr.beta : 1.f, next);
    }
  }
}

template <bool kSwapped>
void run_dot(const Problem& pr, int threads) {
  // X, swept by every thread from L2, is the operand with fewer rows.
  const DotArgs d =
      kSwapped ? DotArgs{pr.b, pr.ldb, pr.a, pr.lda, pr.c, pr.ldc, pr.alpha, pr.b_fill}
               : DotArgs{pr.a, pr.lda, pr.b, pr.ldb, pr.c, pr.ldc, pr.alpha, nullptr, pr.b_fill};
  const int64_t x_rows = kSwapped ? pr.n : pr.m, y_rows = kSwapped ? pr.m : pr.n;
  const int64_t kc =
      min64(pr.k, min64(kDotMaxKC, max64(kDotMinKC, kDotAFloats / x_rows / 16 * 16)));
  const int64_t y_tiles = ceil_div(y_rows, kDN);
  const int64_t per_thread = (x_rows + kDN) * (kc + 16);
  float* const buf = t_pack_a.get(threads * per_thread);
  const bool prefetch = !pr.b_fill && 4.0 * double(y_rows) * double(pr.k) > kPrefetchBytes;
  const auto part = [&](int t, int of) {
    dot_thread<kSwapped>(pr, d, x_rows, min64(y_rows, y_tiles * t / of * kDN),
                         min64(y_rows, y_tiles * (t + 1) / of * kDN), kc, prefetch,
                         buf + t * per_thread);
  };
  if (threads == 1) {
    part(0, 1);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int team = omp_get_num_threads();
    part(omp_get_thread_num(), team);
  }
}

// Whether the k-contiguous path beats packing for this product: long k, and
// an operand small enough to sweep from L2 with long k blocks.
bool use_dot(const Problem& pr) {
  return !pr.trans_a && pr.trans_b && pr.k >= 512 && min64(pr.m, pr.n) <= 256;
}

void run_problem(const Problem& pr) {
  const int threads = max_threads(pr);
  if (use_dot(pr)) return pr.n < pr.m ? run_dot<true>(pr, threads) : run_dot<false>(pr, threads);
  switch (choose_shape(pr, threads)) {
    case 0:
      return run<8, 3>(pr, threads);
    case 1:
      return run<6, 4>(pr, threads);
    case 2:
      return run<14, 2>(pr, threads);
    default:
      return run<24, 1>(pr, threads);
  }
}
}  // namespace

void sgemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                  int64_t ldc) {
  run_problem({trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc});
}

void sgemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, const MatrixSource& b, float beta, float* c,
                  int64_t ldc) {
  run_problem({trans_a, trans_b, m, n, k, alpha, a, lda, nullptr, 0, beta, c, ldc, &b});
}

}  // namespace dml::cpu
