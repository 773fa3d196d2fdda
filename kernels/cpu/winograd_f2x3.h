#pragma once
// The one-dimensional transforms of Winograd's F(2, 3), shared by the
// channels-last inference convolution (conv_winograd.cpp) and the NCHW
// training one (conv_winograd_nchw.cpp). A 2-D transform is the 1-D one down
// each column, then along each row: V = B^T d B, U = G g G^T, Y = A^T M A.
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//   A^T = [1 1 1 0; 0 1 -1 -1]
// The training passes also apply the transposes: A (dY's tiles into the
// products' gradients) and G^T (the transformed weights' gradient into the
// weights'). Constants are only 0, +-1 and +-1/2, so each transform adds a
// rounding or two, never a cancellation of its own.
//
// Always inlined, so that a caller compiled for an instruction-set path
// (isa_dispatch.h's run_for_isa) vectorises them with its own instructions.
#include <array>

namespace dml::cpu::winograd {

template <class T>
__attribute__((always_inline)) inline std::array<T, 4> input(T d0, T d1, T d2, T d3) {
  return {d0 - d2, d1 + d2, d2 - d1, d1 - d3};  // B^T d
}

template <class T>
__attribute__((always_inline)) inline std::array<T, 2> output(T m0, T m1, T m2, T m3) {
  return {m0 + m1 + m2, m1 - m2 - m3};  // A^T m
}

template <class T>
__attribute__((always_inline)) inline std::array<T, 4> output_transposed(T y0, T y1) {
  return {y0, y0 + y1, y0 - y1, -y1};  // A y
}

template <class T>
__attribute__((always_inline)) inline std::array<T, 4> weight(T g0, T g1, T g2) {
  return {g0, T(0.5) * (g0 + g1 + g2), T(0.5) * (g0 - g1 + g2), g2};  // G g
}

template <class T>
__attribute__((always_inline)) inline std::array<T, 3> weight_transposed(T u0, T u1, T u2, T u3) {
  return {u0 + T(0.5) * (u1 + u2), T(0.5) * (u1 - u2), T(0.5) * (u1 + u2) + u3};  // G^T u
}

// U = G g G^T of one 3x3 kernel, g[ky][kx] read as at(ky, kx).
template <class T, class At>
__attribute__((always_inline)) inline std::array<std::array<T, 4>, 4> weight_tile(At at) {
  std::array<std::array<T, 4>, 3> rows;  // G applied along each row: rows[ky][j]
  for (int ky = 0; ky < 3; ++ky) {
    const auto r = weight<T>(at(ky, 0), at(ky, 1), at(ky, 2));
    for (int j = 0; j < 4; ++j) rows[ky][j] = r[j];
  }
  std::array<std::array<T, 4>, 4> u;
  for (int j = 0; j < 4; ++j) {
    const auto col = weight<T>(rows[0][j], rows[1][j], rows[2][j]);
    for (int i = 0; i < 4; ++i) u[i][j] = col[i];
  }
  return u;
}

}  // namespace dml::cpu::winograd
