#pragma once
// Autocast: mixed precision for the ops that hold nearly all of a network's
// FLOPs. Inside an AutocastGuard(DType::bf16) scope, conv2d, matmul and
// linear called with f32 operands compute as PyTorch's
// torch.autocast(dtype=torch.bfloat16) does: operands rounded to bf16,
// products accumulated in f32, the result rounded to bf16 once. The
// parameters stay f32 (master weights): the op casts its f32 operands to bf16
// with a differentiable cast, so a weight's gradient comes back to f32
// through the cast's backward.
//
// Unlike PyTorch, the op then casts its bf16 result back to f32: every op
// after a convolution (batch norm, ReLU, pooling, the losses) takes f32 or
// f64 only today. Carrying bf16 activations through batch norm and ReLU is the
// next step of mixed precision; until then the bf16 result is cast right
// back (the backward rules of conv2d, matmul and linear still save the bf16
// copies of their operands, half the memory of f32 ones).
//
// The state is per thread, like the no-grad mode (autograd.h). Backward
// rules do not consult it: what an op computed in is fixed when it records
// its node, so backward may run inside or outside the scope.
#include <initializer_list>

#include "engine/tensor.h"

namespace dml {

// Sets this thread's autocast dtype for the scope: DType::bf16 turns autocast
// on, DType::f32 turns it off (a full-precision region inside an autocast
// one). The previous state comes back when the guard ends, so guards nest.
class AutocastGuard {
 public:
  explicit AutocastGuard(DType compute);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  DType previous_;
};

// The dtype autocast computes in on this thread: bf16 inside an
// AutocastGuard(DType::bf16) scope, f32 (autocast off) otherwise.
DType autocast_dtype();

// For the autocast ops: true when autocast is on and the operands (undefined
// ones skipped) are all f32 or the autocast dtype, at least one of them f32.
// f64 operands, and every other dtype, are left alone.
bool autocast_applies(std::initializer_list<const Tensor*> operands);

// An operand in the autocast dtype: an f32 tensor cast to it (differentiable),
// any other tensor (undefined too) as it is.
Tensor autocast_operand(const Tensor& t);

}  // namespace dml
