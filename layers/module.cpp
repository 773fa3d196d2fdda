#include "layers/module.h"

#include <map>
#include <set>

namespace dml::nn {

template <class F>
void Module::visit(const std::string& prefix, bool params, bool buffers, F&& f) const {
  if (params)
    for (const auto& [name, t] : params_) f(prefix + name, t);
  if (buffers)
    for (const auto& [name, t] : buffers_) f(prefix + name, t);
  for (const auto& [name, child] : children_) child->visit(prefix + name + ".", params, buffers, f);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  visit("", true, false, [&](const std::string& n, const Tensor& t) { out.emplace_back(n, t); });
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  visit("", true, false, [&](const std::string&, const Tensor& t) { out.push_back(t); });
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  visit("", false, true, [&](const std::string& n, const Tensor& t) { out.emplace_back(n, t); });
  return out;
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  visit("", true, true, [&](const std::string& n, const Tensor& t) { out.emplace_back(n, t); });
  return out;
}

void Module::load_state_dict(const NamedTensors& state, bool strict) {
  std::map<std::string, const Tensor*> given;
  for (const auto& [name, t] : state) {
    DML_CHECK(given.emplace(name, &t).second, "load_state_dict: tensor '", name,
              "' appears twice in the given state");
  }
  std::set<std::string> used;
  for (const auto& [name, mine] : state_dict()) {
    auto it = given.find(name);
    if (it == given.end()) {
      DML_CHECK(!strict, "load_state_dict: missing tensor '", name, "' (", ::dml::describe(mine),
                "); pass strict = false to keep its current value");
      continue;
    }
    const Tensor& src = *it->second;
    DML_CHECK(src.shape() == mine.shape(), "load_state_dict: tensor '", name, "' has shape ",
              shape_str(src.shape()), " but the model expects ", shape_str(mine.shape()));
    DML_CHECK(is_floating(src.dtype()) == is_floating(mine.dtype()), "load_state_dict: tensor '",
              name, "' is ", dtype_name(src.dtype()), " but the model expects ",
              dtype_name(mine.dtype()));
    copy_into(mine, src);
    used.insert(name);
  }
  if (strict)
    for (const auto& [name, t] : state)
      DML_CHECK(used.count(name), "load_state_dict: unexpected tensor '", name,
                "' (the model has no tensor of that name); pass strict = false to skip it");
}

void Module::train(bool on) {
  training_ = on;
  on_train(on);
  for (auto& [name, child] : children_) child->train(on);
}

void Module::to(Device device) {
  for (const auto& [name, t] : state_dict())
    if (t.device() != device) t.rebind(t.detach().to(device));
}

Device Module::device() const {
  NamedTensors state = state_dict();
  return state.empty() ? Device::cpu() : state.front().second.device();
}

void Module::to(DType dtype) {
  DML_CHECK(is_floating(dtype), "Module::to: ", dtype_name(dtype), " is not a floating type");
  for (const auto& [name, t] : state_dict())
    if (is_floating(t.dtype()) && t.dtype() != dtype) t.rebind(t.detach().to(dtype));
}

void Module::zero_grad() {
  for (const Tensor& t : parameters()) t.zero_grad();
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const Tensor& t : parameters()) n += t.numel();
  return n;
}

void Module::summary_into(std::string& out, const std::string& name, int depth) const {
  out +=
      std::string(size_t(depth) * 2, ' ') + (name.empty() ? "" : "(" + name + "): ") + describe();
  int64_t total = num_parameters();
  if (total > 0) out += "  [" + std::to_string(total) + " params]";
  out += "\n";
  for (const auto& [child_name, child] : children_) child->summary_into(out, child_name, depth + 1);
}

std::string Module::summary() const {
  std::string out;
  summary_into(out, "", 0);
  return out;
}

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  if (!t.requires_grad()) t.requires_grad_();
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  buffers_.emplace_back(name, t);
  return t;
}

}  // namespace dml::nn
