#pragma once
// The gradient check before an optimizer step: are all gradients finite,
// and (for a dynamic loss scaler) divide them by the loss scale. One
// multi-tensor kernel over the whole list and one flag on the device, so a
// training step pays one launch (per dtype) and at most one host read for it
// instead of a few small ops per parameter.
#include <vector>

#include "engine/tensor.h"

namespace dml {

// Multiplies every element of every gradient by inv_scale, in place (no
// write at all when inv_scale is 1: then it only checks), and returns one f32
// element (shape []) on the gradients' device: 1 if any element was NaN or
// +-inf before scaling, else 0. The list may mix f32 and f64 gradients
// (inv_scale is rounded to each one's type); all must be on one device.
// Undefined entries (parameters without a gradient) are passed over; an
// empty list gives 0 on the CPU. Outside autograd: gradients are not part
// of a graph. The flag can go straight to Optimizer::step(skip_if).
Tensor non_finite_check_and_unscale(const std::vector<Tensor>& grads, double inv_scale = 1);

}  // namespace dml
