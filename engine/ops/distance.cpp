// Geometry of embedding spaces, composed from differentiable ops so the
// gradients follow from the rules of the parts.
#include "engine/ops/common.h"

namespace dml {

using namespace ops;

Tensor l2_normalize(const Tensor& x, int64_t dim, double eps) {
  // As PyTorch's F.normalize: x / max(||x||, eps).
  Tensor norm = sqrt(sum(mul(x, x), {dim}, true));
  return div(x, clamp(norm, eps, std::nullopt));
}

Tensor pairwise_distance(const Tensor& a, const Tensor& b, Distance kind) {
  const char* op = "pairwise_distance";
  check_dim(op, "first operand", a, 2);
  check_dim(op, "second operand", b, 2);
  DML_CHECK(a.shape()[1] == b.shape()[1], op, ": embedding sizes differ: ", describe(a), " and ",
            describe(b));
  if (kind == Distance::cosine)
    return 1.0 - matmul(l2_normalize(a, 1), transpose(l2_normalize(b, 1), 0, 1));
  // ||a||^2 + ||b||^2 - 2 a.b, clamped at 0 against rounding.
  Tensor aa = sum(mul(a, a), {1}, true);
  Tensor bb = sum(mul(b, b), {1}, true).reshape({1, b.shape()[0]});
  Tensor d2 = clamp(add(add(aa, bb), mul(matmul(a, transpose(b, 0, 1)), -2.0)), 0.0, std::nullopt);
  return kind == Distance::squared_euclidean ? d2 : safe_sqrt(d2);
}

}  // namespace dml
