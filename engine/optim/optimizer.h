#pragma once
// Optimizers update parameters in place from their .grad, outside autograd.
// Parameters come in groups with their own learning rate and weight decay:
// DML trains the backbone, the embedding head and loss parameters (proxies)
// at different rates.
#include <cstring>
#include <string>
#include <type_traits>
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
  // where a group mixes them), not one per parameter. The same as
  // stage_step(), launch_step(skip_if), commit_step() in a row.
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

  // A step in three parts, for a caller that records the update in a CUDA
  // graph (engine/cuda_graph.h) or reads the skip flag after queueing it.
  // Each part takes the parameters that have a gradient now.
  //  - stage_step(): the coming step's coefficients (learning rates, Adam's
  //    bias corrections, SGD's first-step switch) written to memory on each
  //    parameter's device, where the update kernels read them when they run
  //    (on a GPU one small queued upload per fused call). Creates the slots
  //    of parameters updated for the first time. Not while capturing: stage
  //    before every replay instead.
  //  - launch_step(skip_if): queues the update kernels. Capturable once a
  //    stage_step() outside the capture has staged the same parameters: a
  //    replay then reads the coefficients staged before it. The recorded
  //    kernels hold the slots' addresses: no load_state() while the graph
  //    lives (it replaces the slots).
  //  - commit_step(): counts the step. A caller that finds the step was
  //    skipped (it read the flag) does not commit; the next stage_step()
  //    stages the same step count again, as PyTorch does when
  //    optimizer.step() is not called.
  void stage_step();
  void launch_step(const Tensor& skip_if = {});
  void commit_step();

  void zero_grad();
  std::vector<ParamGroup>& groups() { return groups_; }
  const std::vector<ParamGroup>& groups() const { return groups_; }
  // Every group's parameters, in group order.
  std::vector<Tensor> parameters() const;
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
    // Its first parameter's index over all groups: where its coefficients
    // are staged, the same whichever other batches a step has.
    size_t first_param = 0;
  };
  // The kernels' per-step coefficients of one batch (kernels/optim_ops.h:
  // SgdCoeffs<T>, AdamCoeffs<T>), at most kCoefficientBytes, written to `out`.
  static constexpr size_t kCoefficientBytes = 64;
  static constexpr int64_t kCoefficientDoubles = kCoefficientBytes / sizeof(double);
  // What coefficients() writes: Coeffs<T>(params) for the batch's dtype T
  // (parameters are f32 or f64).
  template <template <class> class Coeffs, class Params>
  static void write_coefficients(DType dtype, const Params& params, void* out) {
    auto write = [&](auto t) {
      using C = Coeffs<decltype(t)>;
      static_assert(sizeof(C) <= kCoefficientBytes && std::is_trivially_copyable_v<C>);
      const C c(params);
      std::memcpy(out, &c, sizeof c);
    };
    if (dtype == DType::f64)
      write(double());
    else
      write(float());
  }
  virtual void coefficients(const ParamGroup& group, const Batch& batch, void* out) const = 0;
  // Queues the update of a batch in place with one multi-tensor kernel call:
  // parameters, gradients and slots all live on the batch's device
  // (stage_step() makes the slots with zeros_like). `coefficients` is what
  // coefficients() wrote, in memory of that device; skip_if is null or one
  // f32 there (see step()).
  virtual void update(const Batch& batch, const void* coefficients, const float* skip_if) = 0;
  virtual std::vector<std::string> slot_names() const = 0;

 private:
  // Every gradient matches its parameter (shape, dtype, device): checked
  // before anything changes, so a refused step changes nothing.
  void check_gradients() const;
  // The fused calls of the parameters that have a gradient, each as
  // (group, batch) in order of first appearance, at their coming step.
  // Their slots must exist.
  std::vector<std::pair<size_t, Batch>> plan() const;
  // The staged coefficients on `device` (see stage_step()), or null.
  const Tensor* staged_coefficients(Device device) const;

  std::vector<ParamGroup> groups_;
  std::vector<std::vector<std::vector<Tensor>>> slots_;  // [group][param][slot]
  std::vector<std::vector<int64_t>> param_steps_;        // updates seen per parameter
  // One f64 buffer per device, 8 per parameter: a batch's coefficients at
  // its first_param's. Allocated once, so a captured launch's address holds.
  std::vector<Tensor> coefficients_;
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
  void coefficients(const ParamGroup& group, const Batch& batch, void* out) const override;
  void update(const Batch& batch, const void* coefficients, const float* skip_if) override;
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
  void coefficients(const ParamGroup& group, const Batch& batch, void* out) const override;
  void update(const Batch& batch, const void* coefficients, const float* skip_if) override;
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
