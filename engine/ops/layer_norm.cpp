// Layer normalisation, composed from differentiable ops: it runs once per
// embedding (a [batch, features] tensor), far from any hot path.
#include "engine/ops/common.h"

namespace dml {

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  const char* op = "layer_norm";
  DML_CHECK(x.dim() >= 1, op, ": input ", describe(x), " needs at least one dim");
  const int64_t c = x.shape().back();
  for (const Tensor* t : {&weight, &bias})
    DML_CHECK(!t->defined() || (t->dim() == 1 && t->shape()[0] == c), op, ": ", describe(*t),
              " must be [", c, "] for input ", describe(x));
  Tensor centered = sub(x, mean(x, {-1}, true));
  Tensor y = mul(centered, rsqrt(add(var(x, {-1}, true, 0), eps)));
  if (weight.defined()) y = mul(y, weight);
  if (bias.defined()) y = add(y, bias);
  return y;
}

}  // namespace dml
