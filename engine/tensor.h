#pragma once
// Tensor: a shape, an element type, a device and a reference to contiguous
// row-major storage. Views (reshape, slicing along dim 0) re-describe the same
// storage with a byte offset; nothing is strided. A tensor that takes part in
// autograd carries an AutogradMeta (its grad and the node that made it),
// kept apart from the data so a backward node can refer to an input's
// gradient slot without keeping the input's memory alive.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/dtype.h"
#include "base/error.h"
#include "engine/allocator.h"
#include "engine/device.h"
#include "engine/rng.h"

namespace dml {

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);

struct Storage {
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data = nullptr;
  size_t bytes = 0;
  Device device;
};

class Tensor;
struct Node;
struct TensorImpl;

struct AutogradMeta {
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;     // null for a leaf
  std::shared_ptr<TensorImpl> grad;  // accumulated gradient of a leaf
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  size_t offset = 0;  // bytes from storage->data
  Shape shape;
  DType dtype = DType::f32;
  std::shared_ptr<AutogradMeta> autograd;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}
  // Uninitialised memory of the given shape.
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  int64_t dim() const { return int64_t(shape().size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return shape_numel(shape()); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage ? impl().storage->device : Device::cpu(); }
  size_t nbytes() const { return size_t(numel()) * dtype_size(dtype()); }

  // Typed access to CPU data; throws on a dtype or device mismatch.
  template <class T>
  T* data() const;
  void* raw_data() const;

  // Views sharing storage (differentiable).
  Tensor reshape(Shape shape) const;  // one -1 is inferred
  Tensor flatten(int64_t start_dim = 0) const;
  Tensor slice(int64_t begin, int64_t end) const;  // along dim 0
  Tensor unsqueeze(int64_t d) const;
  Tensor squeeze(int64_t d) const;

  Tensor to(Device d) const;  // differentiable copy across devices
  Tensor to(DType t) const;   // differentiable between floating types
  Tensor clone() const;       // differentiable deep copy

  double item() const;  // the single element of a one-element tensor
  template <class T>
  std::vector<T> to_vector() const;  // CPU, exact dtype

  // Autograd.
  bool requires_grad() const { return impl().autograd && impl().autograd->requires_grad; }
  Tensor& requires_grad_(bool on = true);  // leaves only
  bool is_leaf() const { return !impl().autograd || !impl().autograd->grad_fn; }
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  void zero_grad() const;  // drops the gradient (next backward assigns afresh)
  // Re-points this tensor's storage at `moved`'s (same shape; another device
  // or dtype), so every handle to it - a layer's member, an optimizer's group
  // - sees the change. Drops the gradient. For moving parameters in place.
  void rebind(const Tensor& moved) const;
  const std::shared_ptr<Node>& grad_fn() const;
  // Seeds with ones for a one-element tensor when grad is undefined.
  void backward(const Tensor& grad = {}, bool retain_graph = false) const;
  Tensor detach() const;  // same storage, no history

  TensorImpl& impl() const {
    DML_CHECK(impl_, "use of an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// Tensors by name, in order: a state dict, the contents of a weights file.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
std::string describe(const Tensor& t);  // "f32[2, 3] cpu"

// Overwrites dst's elements with src's (same shape; dtype converted, any
// devices), in place and outside autograd: how weights are loaded into
// parameters that an optimizer already holds.
void copy_into(const Tensor& dst, const Tensor& src);

// Creation.
Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
Tensor ones(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
Tensor full(const Shape& shape, double value, DType dtype = DType::f32,
            Device device = Device::cpu());
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor arange(double start, double end, double step = 1, DType dtype = DType::i64);
Tensor arange(int64_t n, DType dtype = DType::i64);
template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device = Device::cpu());
// Random fills draw element i from the generator's counter offset + i
// (engine/rng.h), on the CPU or directly on a CUDA device with the same
// values bit for bit.
Tensor rand(const Shape& shape, DType dtype = DType::f32, Generator* gen = nullptr,
            Device device = Device::cpu());
Tensor randn(const Shape& shape, DType dtype = DType::f32, Generator* gen = nullptr,
             Device device = Device::cpu());
Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype = DType::i64,
               Generator* gen = nullptr, Device device = Device::cpu());
// 1 with probability p, else 0, in the given floating dtype.
Tensor bernoulli(const Shape& shape, double p, DType dtype = DType::f32, Generator* gen = nullptr,
                 Device device = Device::cpu());

}  // namespace dml
