#include "engine/autocast.h"

#include "base/error.h"

namespace dml {

namespace {
thread_local DType g_autocast_dtype = DType::f32;
thread_local bool g_keep_activations = false;
}  // namespace

AutocastActivationsGuard::AutocastActivationsGuard(bool keep) : keep_(g_keep_activations, keep) {}

bool autocast_keeps_activations() {
  return g_keep_activations;
}

namespace {

DType checked_autocast_dtype(DType compute) {
  DML_CHECK(compute == DType::bf16 || compute == DType::f32, "AutocastGuard: dtype ",
            dtype_name(compute),
            " is not an autocast dtype; use DType::bf16 (on) or DType::f32 (off for the scope)");
  return compute;
}

}  // namespace

AutocastGuard::AutocastGuard(DType compute)
    : compute_(g_autocast_dtype, checked_autocast_dtype(compute)) {}

DType autocast_dtype() {
  return g_autocast_dtype;
}

bool autocast_applies(std::initializer_list<const Tensor*> operands) {
  const DType target = g_autocast_dtype;
  if (target == DType::f32) return false;
  bool any_f32 = false;
  for (const Tensor* t : operands) {
    if (!t->defined()) continue;
    if (t->dtype() != DType::f32 && t->dtype() != target) return false;
    any_f32 = any_f32 || t->dtype() == DType::f32;
  }
  return any_f32;
}

Tensor autocast_operand(const Tensor& t) {
  if (!t.defined() || t.dtype() != DType::f32 || g_autocast_dtype == DType::f32) return t;
  return t.to(g_autocast_dtype);
}

}  // namespace dml
