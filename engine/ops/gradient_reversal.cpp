// Gradient reversal (Ganin & Lempitsky): the adversarial decorrelation of
// PARADE trains a projector to find attribute information in the embedding
// while the reversed gradient makes the backbone remove it.
#include "engine/ops/common.h"

namespace dml {

Tensor gradient_reversal(const Tensor& x, double lambda) {
  Tensor out = x.detach();
  record("gradient_reversal", {x}, out,
         [lambda](const Tensor& g) { return std::vector<Tensor>{mul(g, -lambda)}; });
  return out;
}

}  // namespace dml
