#include "engine/ops/common.h"

namespace dml {

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  DML_CHECK(p >= 0 && p < 1, "dropout: p = ", p, " must be in [0, 1)");
  if (!training || p == 0) return x;
  // Inverted dropout: survivors are scaled by 1 / (1 - p) so eval needs nothing.
  // The mask is drawn on x's device; it is the same on every device for one
  // generator state (kernels/philox.h).
  Tensor keep = bernoulli(x.shape(), 1.0 - p, x.dtype(), gen, x.device());
  return mul(x, mul(keep, 1.0 / (1.0 - p)));
}

}  // namespace dml
