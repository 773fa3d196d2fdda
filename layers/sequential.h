#pragma once
#include <initializer_list>

#include "layers/module.h"

namespace dml::nn {

// Applies its children in order; they are named "0", "1", ... as in PyTorch.
class Sequential final : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  void push_back(std::shared_ptr<Module> m);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "Sequential"; }
  size_t size() const { return children().size(); }
  Module& operator[](size_t i) const { return *children()[i].second; }
};

}  // namespace dml::nn
