// AVX512-BF16 GEMM in the packed-panel (GotoBLAS / BLIS) style, the loop nest
// of sgemm_avx512.cpp over pairs of k steps. For one thread, outermost first:
//   jc: its columns of C in blocks of nc      (packed B block, kc x nc)
//   pc: k in blocks of kc (even but for an odd k's last block; all of k for a
//       bf16 C, which is rounded once)
//   ic: its rows of C in blocks of mc          (A block, mc x kc)
//   jr: NR-wide panels of the B block
//   ir: MR-high panels of the A block
//   microkernel: C[MR x NR] (+)= A panel x B panel in MR * NR / 16 zmm f32
//                accumulators; per pair of k steps one zmm load of B per 16
//                columns, one 32-bit broadcast of A (two bf16) per row, and
//                MR * NR / 16 VDPBF16PS.
// B is packed pair-interleaved (bf16gemm_pack.inc), partial panels padded with
// zeros; a transposed op(A) likewise (MR words per pair). A row-major op(A)
// with an even k is read in place: a row's pair is one 32-bit word.
//
// Threads form a tm x tn grid (tm splits the rows of C, tn the columns), each
// thread packing its own A and B blocks: no sharing, no barriers. The grid
// and the tile shape (6x64, 8x48, 14x32, 24x16) are the ones with the least
// padded work, packing counted.
//
// This file alone is compiled with AVX512-BF16 enabled: as in
// sgemm_avx512.cpp, everything but the entry points has internal linkage and
// no standard-library template is instantiated here.
#include "kernels/cpu/bf16gemm.h"
#include "kernels/cpu/bf16gemm_pack.inc"

namespace dml::cpu {

namespace {

// k block (bf16 elements): a B micro-panel of kc / 2 pairs x NR words is
// 64 KiB at NR = 64, as the f32 kernel's.
constexpr int64_t kKC = 512;
// Most bf16 in an A block (mc x kc): about a fifth of the 1 MiB L2.
constexpr int64_t kABlockElems = 192 * 512;
// Most columns in a B block.
constexpr int64_t kNC = 4096;
// Words in a B block that is used once.
constexpr int64_t kStreamBWords = 64 * 1024;

// op(A) m x k, op(B) k x n, as 16-bit words.
struct Problem {
  bool trans_a, trans_b;
  int64_t m, n, k;
  float alpha;
  const uint16_t* a;
  int64_t lda;
  const uint16_t* b;
  int64_t ldb;
  float beta;
  void* c;  // float, or the bits of a bf16 C (rounded once: see Plan::kc)
  int64_t ldc;

  // Addresses of op(A)[i][p] and op(B)[p][j].
  const uint16_t* a_at(int64_t i, int64_t p) const {
    return trans_a ? a + p * lda + i : a + i * lda + p;
  }
  const uint16_t* b_at(int64_t p, int64_t j) const {
    return trans_b ? b + j * ldb + p : b + p * ldb + j;
  }
  // A row-major op(A) with whole pairs is read in place.
  bool direct_a() const { return !trans_a && k % 2 == 0; }
};

// The pair (p, p + 1) of row r of a row-major op(A) as one word.
inline uint32_t load_pair(const uint16_t* p) {
  uint32_t w;
  std::memcpy(&w, p, sizeof(w));
  return w;
}

// C[mr x nr] = alpha * (A panel x B panel) + beta * C for one MR x NR tile of
// f32 or bf16 C (CT: float or uint16_t),
// mr <= MR, nr <= NR, over `pairs` pairs of k steps. A is a packed panel (pair
// (r, q) = pa[q * MR + r]) or, with kDirectA, a row-major op(A) read in place
// (pair (r, q) at da + r * lda + 2q).
template <int MR, int NV, bool kDirectA, class CT>
__attribute__((always_inline)) inline void micro_kernel(int64_t pairs,
                                                        const uint32_t* __restrict pa,
                                                        const uint16_t* __restrict da, int64_t lda,
                                                        const uint32_t* __restrict pb,
                                                        CT* __restrict c, int64_t ldc, float alpha,
                                                        float beta, int64_t mr, int64_t nr) {
  constexpr int NR = 16 * NV;
  __m512 acc[MR][NV];
#pragma GCC unroll 64
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();

#pragma GCC unroll 2
  for (int64_t q = 0; q < pairs; ++q) {
    __m512bh bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = (__m512bh)_mm512_load_si512(pb + 16 * v);
#pragma GCC unroll 64
    for (int r = 0; r < MR; ++r) {
      const __m512bh av =
          (__m512bh)_mm512_set1_epi32(int(kDirectA ? load_pair(da + r * lda) : pa[r]));
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], av, bv[v]);
    }
    if (kDirectA)
      da += 2;
    else
      pa += MR;
    pb += NR;
  }

#pragma GCC unroll 64
  for (int r = 0; r < MR; ++r) {
    if (r >= mr) break;
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v)
      update_c(c + r * ldc + 16 * v, lanes(nr - 16 * v), acc[r][v], alpha, beta);
  }
}

struct Plan {
  int threads, tm, tn;  // threads = tm * tn; tm splits rows, tn columns
  int64_t kc;           // k block: even, or all of k (odd, or for a bf16 C)
  int64_t nc;           // most columns per B block (multiple of NR)
  int64_t mc;           // most rows per A block (multiple of MR)
};

// Packs rows [i0, i0 + rows) x k steps [p0, p0 + kc) of op(A) as MR-high panels.
template <int MR>
void pack_a(const Problem& pr, int64_t i0, int64_t rows, int64_t p0, int64_t kc, uint32_t* dst) {
  if (pr.trans_a) {
    pack_pairs_from_rows<MR>(pr.a_at(i0, p0), pr.lda, kc, rows, dst);
    return;
  }
  const int64_t pairs = ceil_div(kc, 2);
  for (int64_t i = 0; i < rows; i += MR)
    pack_pairs_from_cols<MR>(pr.a_at(i0 + i, p0), pr.lda, kc, min64(MR, rows - i), dst + i * pairs);
}

// Packs k steps [p0, p0 + kc) x columns [j0, j0 + cols) of op(B) as NR-wide panels.
template <int NR>
void pack_b(const Problem& pr, int64_t p0, int64_t kc, int64_t j0, int64_t cols, uint32_t* dst) {
  if (!pr.trans_b) {
    pack_pairs_from_rows<NR>(pr.b_at(p0, j0), pr.ldb, kc, cols, dst);
    return;
  }
  const int64_t pairs = ceil_div(kc, 2);
  for (int64_t j = 0; j < cols; j += NR)
    pack_pairs_from_cols<NR>(pr.b_at(p0, j0 + j), pr.ldb, kc, min64(NR, cols - j), dst + j * pairs);
}

thread_local WordBuffer t_pack_a, t_pack_b;

// Thread t's tiles: a share of the rows and a share of the columns of C.
template <int MR, int NV, class CT>
void run_thread(const Problem& pr, const Plan& pl, int t) {
  constexpr int NR = 16 * NV;
  const int im = t % pl.tm, jn = t / pl.tm;
  const int64_t row_panels = ceil_div(pr.m, MR), col_panels = ceil_div(pr.n, NR);
  const int64_t r0 = min64(pr.m, row_panels * im / pl.tm * MR),
                r1 = min64(pr.m, row_panels * (im + 1) / pl.tm * MR);
  const int64_t c0 = min64(pr.n, col_panels * jn / pl.tn * NR),
                c1 = min64(pr.n, col_panels * (jn + 1) / pl.tn * NR);
  if (r0 >= r1 || c0 >= c1) return;
  const int64_t max_pairs = ceil_div(pl.kc, 2);
  uint32_t* const b_pack = t_pack_b.get(pl.nc * max_pairs);
  uint32_t* const a_pack = pr.direct_a() ? nullptr : t_pack_a.get(pl.mc * max_pairs);

  for (int64_t jc = c0; jc < c1; jc += pl.nc) {
    const int64_t nc = min64(pl.nc, c1 - jc);
    for (int64_t pc = 0; pc < pr.k; pc += pl.kc) {
      const int64_t kc = min64(pl.kc, pr.k - pc), pairs = ceil_div(kc, 2);
      pack_b<NR>(pr, pc, kc, jc, nc, b_pack);
      const float beta = pc == 0 ? pr.beta : 1.f;
      for (int64_t ic = r0; ic < r1; ic += pl.mc) {
        const int64_t mc = min64(pl.mc, r1 - ic);
        if (a_pack) pack_a<MR>(pr, ic, mc, pc, kc, a_pack);
        for (int64_t j = 0; j < nc; j += NR) {
          const uint32_t* pb = b_pack + j * pairs;
          const int64_t nr = min64(NR, nc - j);
          CT* const cq = static_cast<CT*>(pr.c) + ic * pr.ldc + jc + j;
          for (int64_t i = 0; i < mc; i += MR) {
            const int64_t mr = min64(MR, mc - i);
            if (a_pack) {
              micro_kernel<MR, NV, false, CT>(pairs, a_pack + i * pairs, nullptr, 0, pb,
                                              cq + i * pr.ldc, pr.ldc, pr.alpha, beta, mr, nr);
            } else if (mr == MR) {
              micro_kernel<MR, NV, true, CT>(pairs, nullptr, pr.a_at(ic + i, pc), pr.lda, pb,
                                             cq + i * pr.ldc, pr.ldc, pr.alpha, beta, mr, nr);
            } else {  // a partial last tile: its missing rows are not read
              micro_kernel<1, NV, true, CT>(pairs, nullptr, pr.a_at(ic + i, pc), pr.lda, pb,
                                            cq + i * pr.ldc, pr.ldc, pr.alpha, beta, 1, nr);
              for (int64_t r = 1; r < mr; ++r)
                micro_kernel<1, NV, true, CT>(pairs, nullptr, pr.a_at(ic + i + r, pc), pr.lda, pb,
                                              cq + (i + r) * pr.ldc, pr.ldc, pr.alpha, beta, 1, nr);
            }
          }
        }
      }
    }
  }
}

// Cycles the busiest thread of a tm x tn grid would take, roughly: its
// VDPBF16PS (one 32-product instruction a cycle, edge tiles counted whole)
// and its packing of A and B.
double grid_cost(const Problem& pr, int mr, int nr, int tm, int tn) {
  const double rows = double(ceil_div(ceil_div(pr.m, mr), tm) * mr);
  const double cols = double(ceil_div(ceil_div(pr.n, nr), tn) * nr);
  const double k = double(round_up(pr.k, 2));
  const double compute = rows * cols * k / 32.0;
  const double pack_a = pr.direct_a() ? 0.0 : 0.5 * rows * k * double(ceil_div(int64_t(cols), kNC));
  const double pack_b = (pr.trans_b ? 0.25 : 0.125) * cols * k;
  return compute + pack_a + pack_b;
}

// The least costly grid of `threads` for a tile shape, and its cost.
struct Grid {
  int tm, tn;
  double cost;
};
Grid best_grid(const Problem& pr, int mr, int nr, int threads) {
  Grid best{threads, 1, -1};
  for (int tm = 1; tm <= threads; ++tm) {
    if (threads % tm) continue;
    const double cost = grid_cost(pr, mr, nr, tm, threads / tm);
    if (best.cost < 0 || cost < best.cost) best = {tm, threads / tm, cost};
  }
  return best;
}

template <int MR, int NV, class CT>
void run(const Problem& pr, int threads) {
  constexpr int NR = 16 * NV;
  const Grid grid = best_grid(pr, MR, NR, threads);
  Plan pl{};
  pl.threads = threads;
  pl.tm = grid.tm;
  pl.tn = grid.tn;
  // A bf16 C is rounded once, so its k is one block.
  pl.kc = sizeof(CT) == sizeof(float) ? round_up(ceil_div(pr.k, ceil_div(pr.k, kKC)), 2) : pr.k;
  if (pl.kc > pr.k) pl.kc = pr.k;
  pl.mc = max64(MR, kABlockElems / pl.kc / MR * MR);
  // A thread with one A block uses each B block once: small blocks, packed
  // into L2 just before they are used.
  const int64_t thread_rows = ceil_div(ceil_div(pr.m, MR), pl.tm) * MR;
  pl.nc = thread_rows <= pl.mc ? max64(NR, kStreamBWords / ceil_div(pl.kc, 2) / NR * NR) : kNC;
  if (threads == 1) return run_thread<MR, NV, CT>(pr, pl, 0);
#pragma omp parallel num_threads(threads)
  {
    if (omp_get_num_threads() == pl.threads) {
      run_thread<MR, NV, CT>(pr, pl, omp_get_thread_num());
    } else if (omp_get_thread_num() == 0) {  // a smaller team than asked for: one thread
      Plan one = pl;
      one.threads = one.tm = one.tn = 1;
      run_thread<MR, NV, CT>(pr, one, 0);
    }
  }
}

// The tile shapes, as MR x (NV zmm = 16 NV columns), and how fast each runs
// whole tiles relative to the best.
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
    const double cost =
        best_grid(pr, kShapes[s].mr, kShapes[s].nr, threads).cost / kShapes[s].speed;
    if (best_cost < 0 || cost < best_cost) {
      best_cost = cost;
      best = s;
    }
  }
  return best;
}

// The product on the tile shape choose_shape picks.
template <class CT>
void run_product(const Problem& pr) {
  const int threads = max_threads(pr.m, pr.n, pr.k);
  switch (choose_shape(pr, threads)) {
    case 0:
      return run<8, 3, CT>(pr, threads);
    case 1:
      return run<6, 4, CT>(pr, threads);
    case 2:
      return run<14, 2, CT>(pr, threads);
    default:
      return run<24, 1, CT>(pr, threads);
  }
}

}  // namespace

void bf16gemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                     const bf16* a, int64_t lda, const bf16* b, int64_t ldb, float beta, float* c,
                     int64_t ldc) {
  run_product<float>({trans_a, trans_b, m, n, k, alpha, reinterpret_cast<const uint16_t*>(a), lda,
                      reinterpret_cast<const uint16_t*>(b), ldb, beta, c, ldc});
}

void bf16gemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                     const bf16* a, int64_t lda, const bf16* b, int64_t ldb, float beta, bf16* c,
                     int64_t ldc) {
  run_product<uint16_t>({trans_a, trans_b, m, n, k, alpha, reinterpret_cast<const uint16_t*>(a),
                         lda, reinterpret_cast<const uint16_t*>(b), ldb, beta, c, ldc});
}

}  // namespace dml::cpu
