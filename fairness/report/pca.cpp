#include "fairness/report/pca.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/error.h"
#include "engine/autograd.h"
#include "engine/ops.h"

namespace dml::fairness {

namespace {

constexpr int kMaxIterations = 2000;
// Stop once two successive bases span the same plane to this precision
// (the sine of the angle between them; double rounding is ~1e-16).
constexpr double kTolerance = 1e-14;
constexpr uint64_t kStartSeed = 0x9CA2D;

// Two directions in R^d: the columns of a row-major [d, 2] matrix.
using Basis = std::vector<double>;

double dot(const Basis& q, int a, const Basis& r, int b) {
  double s = 0;
  for (size_t i = 0; i < q.size() / 2; ++i) s += q[2 * i + a] * r[2 * i + b];
  return s;
}

void scale_column(Basis& q, int c, double factor) {
  for (size_t i = 0; i < q.size() / 2; ++i) q[2 * i + c] *= factor;
}

// Gram-Schmidt on the two columns of z (d >= 2; the first column nonzero). A
// second column inside the first's span (no variance beyond the first
// direction) is replaced by the unit vector least aligned with the first,
// made orthogonal: any direction is then as good as another.
Basis orthonormalize(Basis z) {
  const size_t d = z.size() / 2;
  scale_column(z, 0, 1 / std::sqrt(dot(z, 0, z, 0)));
  const double before = std::sqrt(dot(z, 1, z, 1)), along = dot(z, 0, z, 1);
  for (size_t i = 0; i < d; ++i) z[2 * i + 1] -= along * z[2 * i];
  if (std::sqrt(dot(z, 1, z, 1)) <= 1e-12 * before || before == 0) {
    size_t least = 0;
    for (size_t i = 1; i < d; ++i)
      if (std::abs(z[2 * i]) < std::abs(z[2 * least])) least = i;
    const double overlap = z[2 * least];
    for (size_t i = 0; i < d; ++i) z[2 * i + 1] = (i == least ? 1.0 : 0.0) - overlap * z[2 * i];
  }
  scale_column(z, 1, 1 / std::sqrt(dot(z, 1, z, 1)));
  return z;
}

// How far the plane of r lies from the plane of q: the norm of r's part
// outside q's span, sqrt(sum of sin^2 of the principal angles).
double distance_between_planes(const Basis& q, const Basis& r) {
  double outside = 0;
  for (int b = 0; b < 2; ++b) {
    const double along0 = dot(q, 0, r, b), along1 = dot(q, 1, r, b);
    for (size_t i = 0; i < q.size() / 2; ++i) {
      const double rest = r[2 * i + b] - along0 * q[2 * i] - along1 * q[2 * i + 1];
      outside += rest * rest;
    }
  }
  return std::sqrt(outside);
}

Basis times(const Tensor& cov, const Basis& q) {
  const int64_t d = cov.shape()[0];
  return matmul(cov, from_vector(q, {d, 2})).to_vector<double>();
}

// Flips column c so that its largest-magnitude component is positive.
void fix_sign(Basis& q, int c) {
  size_t largest = 0;
  for (size_t i = 1; i < q.size() / 2; ++i)
    if (std::abs(q[2 * i + c]) > std::abs(q[2 * largest + c])) largest = i;
  if (q[2 * largest + c] < 0) scale_column(q, c, -1);
}

// The covariance's top two eigenvectors (d >= 2, cov != 0), by orthogonal
// iteration and a final rotation within their plane.
Basis top_two_directions(const Tensor& cov) {
  const int64_t d = cov.shape()[0];
  Generator gen(kStartSeed);
  Basis q = orthonormalize(randn({d, 2}, DType::f64, &gen).to_vector<double>());
  for (int it = 0; it < kMaxIterations; ++it) {
    Basis next = orthonormalize(times(cov, q));
    const double moved = distance_between_planes(q, next);
    q = std::move(next);
    if (moved < kTolerance) break;
  }
  // Rayleigh-Ritz: B = q^T C q = [a b; b c] has its larger eigenvector at
  // angle theta = atan2(2b, a - c) / 2 in the basis q.
  const Basis cq = times(cov, q);
  const double a = dot(q, 0, cq, 0), b = dot(q, 0, cq, 1), c = dot(q, 1, cq, 1);
  const double theta = 0.5 * std::atan2(2 * b, a - c);
  const double cs = std::cos(theta), sn = std::sin(theta);
  Basis v(q.size());
  for (int64_t i = 0; i < d; ++i) {
    v[2 * i] = cs * q[2 * i] + sn * q[2 * i + 1];
    v[2 * i + 1] = -sn * q[2 * i] + cs * q[2 * i + 1];
  }
  fix_sign(v, 0);
  fix_sign(v, 1);
  return v;
}

}  // namespace

Tensor pca_2d(const Tensor& embeddings) {
  DML_CHECK(embeddings.dim() == 2 && embeddings.shape()[0] >= 1 &&
                (embeddings.dtype() == DType::f32 || embeddings.dtype() == DType::f64) &&
                embeddings.device().is_cpu(),
            "pca_2d: embeddings must be a CPU f32 or f64 [n, d] tensor with n >= 1, got ",
            describe(embeddings));
  NoGradGuard no_grad;
  const int64_t n = embeddings.shape()[0], d = embeddings.shape()[1];
  const Tensor x = embeddings.detach().to(DType::f64);
  const Tensor centred = x - mean(x, {0}, true);
  const Tensor cov = matmul(transpose(centred, 0, 1), centred);  // unscaled: n does not matter
  Basis directions(size_t(2 * d), 0.0);
  if (d == 1)
    directions[0] = 1;
  else if (sum(centred * centred).item() > 0)
    directions = top_two_directions(cov);
  else
    return zeros({n, 2}, embeddings.dtype());
  return matmul(centred, from_vector(directions, {d, 2})).to(embeddings.dtype());
}

}  // namespace dml::fairness
