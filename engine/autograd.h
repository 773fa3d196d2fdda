#pragma once
// Define-by-run autograd. A differentiable op computes its output, then calls
// record() with a closure that maps the output gradient to one gradient per
// input. The closure captures only what the backward rule needs (detached
// tensors, shapes, scalars); the node refers to its inputs' AutogradMeta, not
// to their data. backward() sorts the nodes topologically, runs each closure
// once in reverse order and frees it unless the graph is retained.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/scoped_value.h"
#include "engine/tensor.h"

namespace dml {

using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_out)>;

struct Node {
  const char* name = "";
  std::vector<std::shared_ptr<AutogradMeta>> inputs;  // null: input needs no grad
  std::vector<Shape> input_shapes;                    // to check every rule's output
  std::vector<DType> input_dtypes;
  BackwardFn backward;
};

// Scope in which no op records history (evaluation, optimizer steps).
class NoGradGuard {
 public:
  NoGradGuard();

 private:
  ScopedValue<bool> off_;
};

// True when grad mode is on and some input requires grad.
bool needs_grad(std::initializer_list<const Tensor*> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);

// Attaches a node to `out` when needs_grad(inputs). A rule may return an
// undefined Tensor for an input that needs no gradient.
void record(const char* name, const std::vector<Tensor>& inputs, Tensor& out, BackwardFn fn);

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph);

// Called by backward on this thread, inside the scope, once per leaf as
// soon as its gradient is final: no node still to run in this backward
// adds to it. Data-parallel training starts each bucket's all-reduce there,
// while backward goes on (engine/distributed/gradient_reducer.h). A leaf
// that backward reaches no gradient for is never reported.
using LeafGradReady = std::function<void(const AutogradMeta& leaf)>;

class LeafGradReadyScope {
 public:
  explicit LeafGradReadyScope(LeafGradReady* hook);

 private:
  ScopedValue<LeafGradReady*> hook_;
};

}  // namespace dml
