#include "engine/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "engine/ops.h"

namespace dml {

namespace {
thread_local bool g_grad_enabled = true;
thread_local LeafGradReady* g_leaf_ready = nullptr;
}  // namespace

NoGradGuard::NoGradGuard() : off_(g_grad_enabled, false) {}

LeafGradReadyScope::LeafGradReadyScope(LeafGradReady* hook) : hook_(g_leaf_ready, hook) {}

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void record(const char* name, const std::vector<Tensor>& inputs, Tensor& out, BackwardFn fn) {
  if (!needs_grad(inputs)) return;
  auto node = std::make_shared<Node>();
  node->name = name;
  for (const Tensor& t : inputs) {
    bool wants = t.defined() && t.requires_grad();
    node->inputs.push_back(wants ? t.impl().autograd : nullptr);
    node->input_shapes.push_back(t.defined() ? t.shape() : Shape{});
    node->input_dtypes.push_back(t.defined() ? t.dtype() : DType::f32);
  }
  node->backward = std::move(fn);
  auto meta = std::make_shared<AutogradMeta>();
  meta->requires_grad = true;
  meta->grad_fn = std::move(node);
  out.impl().autograd = std::move(meta);
}

namespace {

std::vector<Node*> topological_order(Node* root) {
  // Iterative post-order DFS: a node comes after every node it feeds.
  std::vector<Node*> order;
  std::unordered_set<Node*> seen{root};
  std::vector<std::pair<Node*, size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      const auto& meta = node->inputs[next++];
      Node* child = meta ? meta->grad_fn.get() : nullptr;
      if (child && seen.insert(child).second) stack.push_back({child, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  return order;  // inputs before consumers; walk it backwards
}

// Sums gradients that meet at one tensor. The arithmetic ops take f32 and
// f64; a bf16 gradient (of a tensor used by two bf16 ops, or a bf16 leaf's
// second backward) is summed in f32 and rounded once.
void accumulate(Tensor& slot, const Tensor& g) {
  if (!slot.defined())
    slot = g;
  else if (slot.dtype() == DType::bf16)
    slot = add(slot.to(DType::f32), g.to(DType::f32)).to(DType::bf16);
  else
    slot = add(slot, g);
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  DML_CHECK(root.requires_grad(), "backward: tensor ", describe(root),
            " does not require grad (no parameter or input with requires_grad reached it)");
  Tensor seed = grad;
  if (!seed.defined()) {
    DML_CHECK(root.numel() == 1, "backward: an implicit gradient needs a one-element output, got ",
              describe(root), "; pass the output gradient explicitly");
    seed = ones_like(root);
  }
  DML_CHECK(seed.shape() == root.shape(), "backward: gradient ", describe(seed),
            " does not match output ", describe(root));
  NoGradGuard no_grad;
  auto& root_meta = root.impl().autograd;
  if (!root_meta->grad_fn) {  // backward on a leaf
    Tensor slot(root_meta->grad);
    accumulate(slot, seed);
    root_meta->grad = slot.impl_ptr();
    return;
  }
  std::unordered_map<Node*, Tensor> pending{{root_meta->grad_fn.get(), seed}};
  std::vector<Node*> order = topological_order(root_meta->grad_fn.get());
  // With a ready hook: how many node inputs still to run feed each leaf.
  std::unordered_map<const AutogradMeta*, int64_t> leaf_feeds;
  if (g_leaf_ready)
    for (Node* node : order)
      for (const auto& meta : node->inputs)
        if (meta && !meta->grad_fn) ++leaf_feeds[meta.get()];
  auto leaf_fed = [&](const AutogradMeta& leaf) {
    if (g_leaf_ready && --leaf_feeds[&leaf] == 0 && leaf.grad) (*g_leaf_ready)(leaf);
  };
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    auto found = pending.find(node);
    if (found == pending.end()) {  // no gradient flows here
      for (const auto& meta : node->inputs)
        if (meta && !meta->grad_fn) leaf_fed(*meta);
      continue;
    }
    Tensor g = std::move(found->second);
    pending.erase(found);
    DML_CHECK(node->backward, "backward: the graph through '", node->name,
              "' was already freed; pass retain_graph=true to backward twice");
    std::vector<Tensor> grads = node->backward(g);
    if (!retain_graph) node->backward = nullptr;
    DML_CHECK(grads.size() == node->inputs.size(), "backward rule of '", node->name, "' returned ",
              grads.size(), " gradients for ", node->inputs.size(), " inputs");
    for (size_t i = 0; i < grads.size(); ++i) {
      const auto& meta = node->inputs[i];
      if (!meta) continue;
      if (!grads[i].defined()) {
        if (!meta->grad_fn) leaf_fed(*meta);
        continue;
      }
      DML_CHECK(grads[i].shape() == node->input_shapes[i], "backward rule of '", node->name,
                "' gave gradient ", shape_str(grads[i].shape()), " for input ", i, " of shape ",
                shape_str(node->input_shapes[i]));
      Tensor gi =
          grads[i].dtype() == node->input_dtypes[i] ? grads[i] : grads[i].to(node->input_dtypes[i]);
      if (meta->grad_fn) {
        accumulate(pending[meta->grad_fn.get()], gi);
      } else {
        // A leaf's gradient must not alias a tensor someone else holds.
        Tensor slot(meta->grad);
        if (!slot.defined() && gi.impl().storage.use_count() > 1) gi = gi.clone();
        accumulate(slot, gi);
        meta->grad = slot.impl_ptr();
        leaf_fed(*meta);
      }
    }
  }
}

}  // namespace dml
