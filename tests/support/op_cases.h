#pragma once
// The table of op cases shared by the finite-difference gradient checks and
// the PyTorch parity tests: one entry per differentiable op (and per notable
// option or broadcast form). tests/golden/make_golden.py defines the same
// cases by name with torch and records their outputs and gradients.
#include <functional>
#include <string>
#include <vector>

#include "engine/ops.h"

namespace dml::test {

enum class InputKind {
  normal,             // N(0, 1), differentiable
  positive,           // U(0.5, 2), differentiable (log, sqrt, divisors, pow bases)
  constant_positive,  // U(0.5, 2), no gradient (running variance)
  constant_normal,    // N(0, 1), no gradient (running mean)
  index,              // i64 in [0, bound)
  mask,               // u8, 0 or 1
};

struct InputSpec {
  Shape shape;
  InputKind kind = InputKind::normal;
  int64_t bound = 0;  // for index inputs
};

struct OpCase {
  std::string name;
  std::vector<InputSpec> inputs;
  std::function<Tensor(const std::vector<Tensor>&)> fn;
  double fd_eps = 1e-6;  // central-difference step for this op
  // The analytic gradient is grad_scale times the forward's derivative
  // (-lambda for gradient reversal, 1 for every honest op).
  double grad_scale = 1;
};

const std::vector<OpCase>& op_cases();
// Ops without a gradient (comparisons, arg-reductions, top-k, one-hot):
// checked for values only, against PyTorch.
const std::vector<OpCase>& value_cases();

// Seeded inputs for a case in the given floating dtype.
std::vector<Tensor> make_inputs(const OpCase& c, DType dtype, uint64_t seed);

}  // namespace dml::test
