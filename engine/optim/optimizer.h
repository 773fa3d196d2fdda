#pragma once
// Optimizers update parameters in place from their .grad, outside autograd.
// Parameters come in groups with their own learning rate and weight decay:
// DML trains the backbone, the embedding head and loss parameters (proxies)
// at different rates.
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace dml {

struct ParamGroup {
  std::string name;
  std::vector<Tensor> params;
  double lr = 1e-3;
  double weight_decay = 0;
  double base_lr = -1;  // the lr schedules scale; taken from lr when left negative
};

class Optimizer {
 public:
  explicit Optimizer(std::vector<ParamGroup> groups);
  virtual ~Optimizer() = default;

  // One update of every parameter that has a gradient: one fused
  // multi-tensor kernel call per group and step count (and dtype and device,
  // where a group mixes them), not one per parameter.
  //
  // skip_if: optional, one f32 element on the parameters' device (as
  // non_finite_check_and_unscale returns). When it holds a nonzero value the
  // kernels return without writing, so a loss scaler or a captured CUDA graph
  // can skip an update without the host reading the flag. The host cannot
  // know, so the step counts (steps_taken(), the per-parameter counts of
  // Adam's bias correction and SGD's first momentum step) advance all the
  // same, unlike PyTorch's GradScaler, which skips optimizer.step() outright.
  // Slots are created zeroed even by a skipped step. SGD whose first step was
  // skipped then starts its momentum buffer from zero: the same as PyTorch
  // when dampening is 0 (the buffer is exactly the first gradient), scaled by
  // 1 - dampening otherwise. A caller that reads the flag on the host and
  // does not call step() at all gets PyTorch's behaviour exactly.
  void step(const Tensor& skip_if = {});
  void zero_grad();
  std::vector<ParamGroup>& groups() { return groups_; }
  const std::vector<ParamGroup>& groups() const { return groups_; }
  int64_t steps_taken() const { return steps_; }

  // Per-parameter state by name, for checkpoints: the slots ("group.param.slot",
  // e.g. "model.3.exp_avg") and the updates seen ("group.param.step", i64 [1]).
  // Parameters not yet updated have no entries. The slot tensors are the live
  // ones: write or copy them before the next step.
  NamedTensors state() const;
  // Restores what state() saved, into an optimizer built with the same groups
  // and parameters. A name that matches no slot, or a mis-shaped tensor, is an
  // error naming it; parameters absent from `state` start fresh.
  void load_state(const NamedTensors& state);

 protected:
  // The parameters of one fused update: one group, dtype, device and step
  // count. slots[s][i] is slot s (slot_names()[s]) of params[i], created
  // zeroed.
  struct Batch {
    std::vector<Tensor> params, grads;
    std::vector<std::vector<Tensor>> slots;
    int64_t step = 0;  // 1-based: the updates each parameter has seen, this one included
  };
  // Updates a batch in place with one multi-tensor kernel call. skip_if is
  // null or one f32 on the batch's device (see step()).
  virtual void update(const ParamGroup& group, const Batch& batch, const float* skip_if) = 0;
  virtual std::vector<std::string> slot_names() const = 0;

 private:
  std::vector<ParamGroup> groups_;
  std::vector<std::vector<std::vector<Tensor>>> slots_;  // [group][param][slot]
  std::vector<std::vector<int64_t>> param_steps_;        // updates seen per parameter
  int64_t steps_ = 0;
};

struct SgdOptions {
  double momentum = 0, dampening = 0;
  bool nesterov = false;
};

class SGD final : public Optimizer {
 public:
  SGD(std::vector<ParamGroup> groups, SgdOptions options = {});

 private:
  void update(const ParamGroup& group, const Batch& batch, const float* skip_if) override;
  std::vector<std::string> slot_names() const override;
  SgdOptions opt_;
};

struct AdamOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

// Adam with L2 weight decay added to the gradient, as torch.optim.Adam.
class Adam : public Optimizer {
 public:
  Adam(std::vector<ParamGroup> groups, AdamOptions options = {});

 protected:
  Adam(std::vector<ParamGroup> groups, AdamOptions options, bool decoupled);

 private:
  void update(const ParamGroup& group, const Batch& batch, const float* skip_if) override;
  std::vector<std::string> slot_names() const override;
  AdamOptions opt_;
  bool decoupled_;
};

// Adam with decoupled weight decay (Loshchilov & Hutter), as torch.optim.AdamW.
class AdamW final : public Adam {
 public:
  AdamW(std::vector<ParamGroup> groups, AdamOptions options = {});
};

}  // namespace dml
