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
// Unlike PyTorch, the op then casts its bf16 result back to f32 by default:
// most ops after a convolution or product (ReLU, the elementwise ops, the
// losses, layer norm) take f32 or f64 only. Where every consumer of a
// convolution's output takes bf16 - batch norm (fused with the residual add
// and ReLU, in f32 arithmetic with f32 parameters) and max pooling, i.e. a
// ResNet backbone - the caller opens an AutocastActivationsGuard and conv2d
// returns the bf16 result itself, as PyTorch's autocast does: the
// activations and the tensors the backward saves take half the bytes. This
// is opt-in per region rather than global, so no op outside it ever meets a
// bf16 tensor it cannot take (nn::ResNet::forward_features opens one and
// casts its own output back to f32).
//
// The state is per thread, like the no-grad mode (autograd.h). Backward
// rules do not consult it: what an op computed in is fixed when it records
// its node, so backward may run inside or outside the scope.
#include <initializer_list>

#include "engine/scoped_value.h"
#include "engine/tensor.h"

namespace dml {

// Sets this thread's autocast dtype for the scope: DType::bf16 turns autocast
// on, DType::f32 turns it off (a full-precision region inside an autocast
// one). The previous state comes back when the guard ends, so guards nest.
class AutocastGuard {
 public:
  explicit AutocastGuard(DType compute);

 private:
  ScopedValue<DType> compute_;
};

// The dtype autocast computes in on this thread: bf16 inside an
// AutocastGuard(DType::bf16) scope, f32 (autocast off) otherwise.
DType autocast_dtype();

// Sets, for the scope, whether conv2d under autocast keeps its result in the
// autocast dtype (true) or casts it back to f32 (false, the default). It has
// no effect where autocast is off. Per thread; the previous state comes back
// when the guard ends, so guards nest.
class AutocastActivationsGuard {
 public:
  explicit AutocastActivationsGuard(bool keep);

 private:
  ScopedValue<bool> keep_;
};

// True inside an AutocastActivationsGuard(true) scope.
bool autocast_keeps_activations();

// For the autocast ops: true when autocast is on and the operands (undefined
// ones skipped) are all f32 or the autocast dtype, at least one of them f32.
// f64 operands, and every other dtype, are left alone.
bool autocast_applies(std::initializer_list<const Tensor*> operands);

// An operand in the autocast dtype: an f32 tensor cast to it (differentiable),
// any other tensor (undefined too) as it is.
Tensor autocast_operand(const Tensor& t);

}  // namespace dml
