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

  // One update of every parameter that has a gradient.
  void step();
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
  // Updates one parameter; `slots` are its state buffers, created zeroed.
  virtual void update(const ParamGroup& group, Tensor& param, const Tensor& grad,
                      std::vector<Tensor>& slots, int64_t step) = 0;
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
  void update(const ParamGroup& group, Tensor& param, const Tensor& grad,
              std::vector<Tensor>& slots, int64_t step) override;
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
  void update(const ParamGroup& group, Tensor& param, const Tensor& grad,
              std::vector<Tensor>& slots, int64_t step) override;
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
