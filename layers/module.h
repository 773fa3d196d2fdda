#pragma once
// Module: the unit networks are built from. A module owns named parameters
// (trained) and buffers (state such as batch-norm running statistics) and
// named children; names compose with dots ("layer1.0.bn1.running_mean"), in
// registration order, exactly as PyTorch's state_dict names them, so
// torchvision weights load by name.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace dml::nn {

using ::dml::NamedTensors;

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }
  // One line describing this module alone ("Conv2d(3, 64, kernel=7, stride=2, ...)").
  virtual std::string describe() const = 0;

  NamedTensors named_parameters() const;
  std::vector<Tensor> parameters() const;
  NamedTensors named_buffers() const;
  // Parameters and buffers, each module's own before its children's.
  NamedTensors state_dict() const;
  // Copies every tensor of `state` into the tensor of the same name, in place
  // (an optimizer holding the parameters keeps working). Strict: a missing,
  // unexpected or mis-shaped tensor is an error naming it; otherwise missing
  // and unexpected names are skipped.
  void load_state_dict(const NamedTensors& state, bool strict = true);

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Moves parameters and buffers in place: every handle (a layer's member,
  // an optimizer's group) follows. An optimizer's state does not; create the
  // optimizer after moving.
  void to(Device device);
  // Where the parameters (and buffers) live: the first one's device; the CPU
  // for a module that has none.
  Device device() const;
  // Converts floating parameters and buffers in place (f64 for gradient
  // checks and parity tests); integer buffers keep their type.
  void to(DType dtype);
  void zero_grad();
  int64_t num_parameters() const;
  // An indented tree of describe() lines with parameter counts.
  std::string summary() const;

  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const {
    return children_;
  }

 protected:
  // Both return a handle to the registered tensor; layers keep it as a
  // member (handles share the tensor, so to() and load_state_dict reach it).
  Tensor register_parameter(const std::string& name, Tensor t);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }
  // Called when the mode changes, for modules that react to it.
  virtual void on_train(bool) {}

 private:
  // Visits this module's tensors and its children's, with dotted names.
  template <class F>
  void visit(const std::string& prefix, bool params, bool buffers, F&& f) const;
  void summary_into(std::string& out, const std::string& name, int depth) const;

  NamedTensors params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace dml::nn
