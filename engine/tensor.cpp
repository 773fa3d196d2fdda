#include "engine/tensor.h"

#include <cmath>
#include <cstring>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "engine/autograd.h"
#include "engine/kernel_dispatch.h"
#include "engine/ops.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/random.h"
#include "kernels/cpu/strided.h"

#ifdef DML_WITH_CUDA
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/fill.h"
#include "kernels/cuda/random.h"
#include "kernels/cuda_runtime/device_memory.h"
#endif

namespace dml {

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Storage::Storage(size_t nbytes, Device dev) : bytes(nbytes), device(dev) {
  data = allocator_for(dev).allocate(nbytes);
}
Storage::~Storage() {
  allocator_for(device).deallocate(data, bytes);
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape)
    DML_CHECK(d >= 0, "tensor creation: negative dimension in shape ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(size_t(shape_numel(shape)) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

int64_t Tensor::size(int64_t d) const {
  int64_t nd = dim();
  int64_t i = d < 0 ? d + nd : d;
  DML_CHECK(i >= 0 && i < nd, "size(", d, "): out of range for ", describe(*this));
  return shape()[i];
}

void* Tensor::raw_data() const {
  auto& im = impl();
  return static_cast<char*>(im.storage->data) + im.offset;
}

template <class T>
T* Tensor::data() const {
  DML_CHECK(dtype() == dtype_of<T>::value, "data<", dtype_name(dtype_of<T>::value),
            ">() on a tensor ", describe(*this));
  DML_CHECK(device().is_cpu(), "data(): tensor ", describe(*this),
            " is not on the CPU; copy it with .to(cpu) first");
  return static_cast<T*>(raw_data());
}
template float* Tensor::data<float>() const;
template double* Tensor::data<double>() const;
template bf16* Tensor::data<bf16>() const;
template f16* Tensor::data<f16>() const;
template int32_t* Tensor::data<int32_t>() const;
template int64_t* Tensor::data<int64_t>() const;
template uint8_t* Tensor::data<uint8_t>() const;

namespace {
// A tensor sharing `src`'s storage with a new shape and byte offset.
Tensor view_of(const Tensor& src, Shape shape, size_t extra_offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = src.impl().storage;
  impl->offset = src.impl().offset + extra_offset;
  impl->shape = std::move(shape);
  impl->dtype = src.dtype();
  return Tensor(std::move(impl));
}

void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes) {
  if (bytes == 0) return;
  if (dst_dev.is_cpu() && src_dev.is_cpu()) {
    std::memcpy(dst, src, bytes);
    return;
  }
#ifdef DML_WITH_CUDA
  if (dst_dev.is_cuda() && src_dev.is_cpu())
    return cuda::copy_host_to_device(dst, src, bytes, dst_dev.index);
  if (dst_dev.is_cpu() && src_dev.is_cuda())
    return cuda::copy_device_to_host(dst, src, bytes, src_dev.index);
  if (dst_dev == src_dev) return cuda::copy_device_to_device(dst, src, bytes, dst_dev.index);
  // Across two GPUs: stage through the host.
  std::vector<char> host(bytes);
  cuda::copy_device_to_host(host.data(), src, bytes, src_dev.index);
  cuda::copy_host_to_device(dst, host.data(), bytes, dst_dev.index);
#else
  throw Error("copy between " + src_dev.str() + " and " + dst_dev.str() +
              ": this build has no CUDA backend");
#endif
}
}  // namespace

Tensor Tensor::reshape(Shape shape) const {
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      DML_CHECK(infer < 0, "reshape: more than one -1 in ", shape_str(shape));
      infer = int64_t(i);
    } else {
      DML_CHECK(shape[i] >= 0, "reshape: negative size in ", shape_str(shape));
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    DML_CHECK(known > 0 && numel() % known == 0, "reshape: cannot infer -1 in ", shape_str(shape),
              " for ", describe(*this));
    shape[infer] = numel() / known;
  }
  DML_CHECK(shape_numel(shape) == numel(), "reshape: ", describe(*this), " has ", numel(),
            " elements, cannot view as ", shape_str(shape));
  Tensor out = view_of(*this, shape, 0);
  Shape in_shape = this->shape();
  record("reshape", {*this}, out,
         [in_shape](const Tensor& g) { return std::vector<Tensor>{g.reshape(in_shape)}; });
  return out;
}

Tensor Tensor::flatten(int64_t start_dim) const {
  int64_t d = start_dim < 0 ? start_dim + dim() : start_dim;
  DML_CHECK(d >= 0 && d <= dim(), "flatten: start_dim ", start_dim, " out of range for ",
            describe(*this));
  Shape s(shape().begin(), shape().begin() + d);
  s.push_back(-1);
  if (numel() == 0) s.back() = 0;
  return reshape(s);
}

Tensor Tensor::unsqueeze(int64_t d) const {
  int64_t i = d < 0 ? d + dim() + 1 : d;
  DML_CHECK(i >= 0 && i <= dim(), "unsqueeze: dim ", d, " out of range for ", describe(*this));
  Shape s = shape();
  s.insert(s.begin() + i, 1);
  return reshape(s);
}

Tensor Tensor::squeeze(int64_t d) const {
  int64_t i = d < 0 ? d + dim() : d;
  DML_CHECK(i >= 0 && i < dim() && shape()[i] == 1, "squeeze: dim ", d, " is not a size-1 dim of ",
            describe(*this));
  Shape s = shape();
  s.erase(s.begin() + i);
  return reshape(s);
}

Tensor Tensor::slice(int64_t begin, int64_t end) const {
  DML_CHECK(dim() >= 1, "slice: needs at least one dim, got ", describe(*this));
  int64_t n = shape()[0];
  DML_CHECK(0 <= begin && begin <= end && end <= n, "slice: range [", begin, ", ", end,
            ") is out of bounds for dim 0 of ", describe(*this));
  Shape s = shape();
  s[0] = end - begin;
  size_t row_bytes = size_t(shape_numel(s) / std::max<int64_t>(s[0], 1)) * dtype_size(dtype());
  if (s[0] == 0) row_bytes = 0;
  Tensor out = view_of(*this, s, size_t(begin) * row_bytes);
  Shape in_shape = shape();
  record("slice", {*this}, out, [in_shape, begin](const Tensor& g) {
    Tensor full = zeros(in_shape, g.dtype(), g.device());
    copy_bytes(full.slice(begin, begin + g.size(0)).raw_data(), g.device(), g.raw_data(),
               g.device(), g.nbytes());
    return std::vector<Tensor>{full};
  });
  return out;
}

Tensor Tensor::to(Device d) const {
  if (device() == d) return *this;
  Tensor out = Tensor::empty(shape(), dtype(), d);
  copy_bytes(out.raw_data(), d, raw_data(), device(), nbytes());
  Device src = device();
  record("to_device", {*this}, out,
         [src](const Tensor& g) { return std::vector<Tensor>{g.to(src)}; });
  return out;
}

namespace {
// Casts on the device that holds both buffers.
template <class From>
void cast_from(const From* x, void* y, DType to, int64_t n, Device d) {
  auto run = [&](auto* typed_y) { DML_KERNEL(d, cast, x, typed_y, n); };
  switch (to) {
    case DType::f32:
      return run(static_cast<float*>(y));
    case DType::f64:
      return run(static_cast<double*>(y));
    case DType::bf16:
      return run(static_cast<bf16*>(y));
    case DType::f16:
      return run(static_cast<f16*>(y));
    case DType::i32:
      return run(static_cast<int32_t*>(y));
    case DType::i64:
      return run(static_cast<int64_t*>(y));
    case DType::u8:
      return run(static_cast<uint8_t*>(y));
  }
}
void cast_any(const void* x, DType from, void* y, DType to, int64_t n, Device d) {
  switch (from) {
    case DType::f32:
      return cast_from(static_cast<const float*>(x), y, to, n, d);
    case DType::f64:
      return cast_from(static_cast<const double*>(x), y, to, n, d);
    case DType::bf16:
      return cast_from(static_cast<const bf16*>(x), y, to, n, d);
    case DType::f16:
      return cast_from(static_cast<const f16*>(x), y, to, n, d);
    case DType::i32:
      return cast_from(static_cast<const int32_t*>(x), y, to, n, d);
    case DType::i64:
      return cast_from(static_cast<const int64_t*>(x), y, to, n, d);
    case DType::u8:
      return cast_from(static_cast<const uint8_t*>(x), y, to, n, d);
  }
}
}  // namespace

Tensor Tensor::to(DType t) const {
  if (dtype() == t) return *this;
  Tensor out = Tensor::empty(shape(), t, device());
  cast_any(raw_data(), dtype(), out.raw_data(), t, numel(), device());
  if (is_floating(dtype()) && is_floating(t)) {
    DType src = dtype();
    record("to_dtype", {*this}, out,
           [src](const Tensor& g) { return std::vector<Tensor>{g.to(src)}; });
  }
  return out;
}

Tensor Tensor::clone() const {
  Tensor out = Tensor::empty(shape(), dtype(), device());
  copy_bytes(out.raw_data(), device(), raw_data(), device(), nbytes());
  record("clone", {*this}, out, [](const Tensor& g) { return std::vector<Tensor>{g}; });
  return out;
}

double Tensor::item() const {
  DML_CHECK(numel() == 1, "item(): needs exactly one element, got ", describe(*this));
  Tensor c = to(Device::cpu()).detach().to(DType::f64);
  return *c.data<double>();
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor c = to(Device::cpu());
  const T* p = c.data<T>();
  return std::vector<T>(p, p + numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int32_t> Tensor::to_vector<int32_t>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template std::vector<uint8_t> Tensor::to_vector<uint8_t>() const;

Tensor& Tensor::requires_grad_(bool on) {
  DML_CHECK(is_leaf(), "requires_grad_: ", describe(*this),
            " is the result of an op; only leaf tensors can be marked");
  if (on) {
    DML_CHECK(is_floating(dtype()), "requires_grad_: ", describe(*this),
              " is not a floating tensor");
    if (!impl().autograd) impl().autograd = std::make_shared<AutogradMeta>();
    impl().autograd->requires_grad = true;
  } else if (impl().autograd) {
    impl().autograd->requires_grad = false;
  }
  return *this;
}

Tensor Tensor::grad() const {
  auto& meta = impl().autograd;
  return meta ? Tensor(meta->grad) : Tensor();
}

void Tensor::set_grad(const Tensor& g) const {
  DML_CHECK(impl().autograd, "set_grad: ", describe(*this), " does not require grad");
  DML_CHECK(!g.defined() || g.shape() == shape(), "set_grad: gradient ", describe(g),
            " does not match ", describe(*this));
  impl().autograd->grad = g.impl_ptr();
}

void Tensor::rebind(const Tensor& moved) const {
  DML_CHECK(moved.shape() == shape(), "rebind: ", describe(moved), " cannot replace ",
            describe(*this), " (shapes differ)");
  impl().storage = moved.impl().storage;
  impl().offset = moved.impl().offset;
  impl().dtype = moved.dtype();
  zero_grad();
}

void Tensor::zero_grad() const {
  if (impl().autograd) impl().autograd->grad.reset();
}

const std::shared_ptr<Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<Node> none;
  return impl().autograd ? impl().autograd->grad_fn : none;
}

void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  run_backward(*this, grad, retain_graph);
}

Tensor Tensor::detach() const {
  return view_of(*this, shape(), 0);
}

std::string describe(const Tensor& t) {
  if (!t.defined()) return "undefined";
  return std::string(dtype_name(t.dtype())) + shape_str(t.shape()) + " " + t.device().str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  os << "Tensor(" << describe(t);
  if (t.defined() && t.numel() > 0) {
    Tensor c = t.to(Device::cpu()).detach().to(DType::f64);
    const double* p = c.data<double>();
    const int64_t show = std::min<int64_t>(c.numel(), 8);
    os << ", [";
    for (int64_t i = 0; i < show; ++i) os << (i ? ", " : "") << std::setprecision(6) << p[i];
    if (c.numel() > show) os << ", ...";
    os << "]";
  }
  return os << ")";
}

void copy_into(const Tensor& dst, const Tensor& src) {
  DML_CHECK(dst.shape() == src.shape(), "copy_into: source ", describe(src),
            " does not match destination ", describe(dst));
  Tensor converted = src.detach().to(dst.dtype());
  copy_bytes(dst.raw_data(), dst.device(), converted.raw_data(), converted.device(), dst.nbytes());
}

// ---- creation ----

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
#ifdef DML_WITH_CUDA
  // On a GPU a kernel writes the value (its bits as the CPU converts it):
  // no upload, and capturable in a CUDA graph.
  if (device.is_cuda()) {
    const Tensor one = full({}, value, dtype);
    uint64_t pattern = 0;
    std::memcpy(&pattern, one.raw_data(), one.nbytes());
    Tensor t = Tensor::empty(shape, dtype, device);
    cuda::fill_pattern(t.raw_data(), size_t(t.numel()), one.nbytes(), pattern, device.index);
    return t;
  }
#endif
  Tensor t = Tensor::empty(shape, DType::f64);
  double* p = t.data<double>();
  std::fill(p, p + t.numel(), value);
  return t.to(dtype).to(device);
}
Tensor zeros(const Shape& shape, DType dtype, Device device) {
  if (device.is_cuda()) return full(shape, 0.0, dtype, device);
  Tensor t = Tensor::empty(shape, dtype);
  if (t.nbytes() > 0) std::memset(t.raw_data(), 0, t.nbytes());  // an empty tensor has no data
  return t;
}
Tensor ones(const Shape& shape, DType dtype, Device device) {
  return full(shape, 1.0, dtype, device);
}
Tensor zeros_like(const Tensor& t) {
  return zeros(t.shape(), t.dtype(), t.device());
}
Tensor ones_like(const Tensor& t) {
  return ones(t.shape(), t.dtype(), t.device());
}

Tensor arange(double start, double end, double step, DType dtype) {
  DML_CHECK(step != 0, "arange: step must be non-zero");
  int64_t n = std::max<int64_t>(0, int64_t(std::ceil((end - start) / step)));
  Tensor t = Tensor::empty({n}, DType::f64);
  double* p = t.data<double>();
  for (int64_t i = 0; i < n; ++i) p[i] = start + double(i) * step;
  return t.to(dtype);
}
Tensor arange(int64_t n, DType dtype) {
  return arange(0.0, double(n), 1.0, dtype);
}

template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  DML_CHECK(int64_t(values.size()) == shape_numel(shape), "from_vector: ", values.size(),
            " values cannot fill shape ", shape_str(shape));
  Tensor t = Tensor::empty(shape, dtype_of<T>::value);
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
  return t.to(device);
}
template Tensor from_vector<float>(const std::vector<float>&, const Shape&, Device);
template Tensor from_vector<double>(const std::vector<double>&, const Shape&, Device);
template Tensor from_vector<int32_t>(const std::vector<int32_t>&, const Shape&, Device);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, const Shape&, Device);
template Tensor from_vector<uint8_t>(const std::vector<uint8_t>&, const Shape&, Device);

namespace {
Generator& pick(Generator* gen) {
  return gen ? *gen : default_generator();
}

// Fills a new f32/f64 tensor (f32 for the half types) on `device` through the
// backend's fill kernel, then converts to the dtype asked for.
template <class Fill>
Tensor random_float(const char* op, const Shape& shape, DType dtype, Generator* gen, Device device,
                    Fill fill) {
  DML_CHECK(is_floating(dtype), op, ": dtype ", dtype_name(dtype), " is not floating");
  Generator& g = pick(gen);
  Tensor t = Tensor::empty(shape, dtype == DType::f64 ? DType::f64 : DType::f32, device);
  uint64_t first = g.reserve(uint64_t(t.numel()));
  if (t.dtype() == DType::f64)
    fill(static_cast<double*>(t.raw_data()), t.numel(), g.seed(), first);
  else
    fill(static_cast<float*>(t.raw_data()), t.numel(), g.seed(), first);
  return t.to(dtype);
}
}  // namespace

Tensor rand(const Shape& shape, DType dtype, Generator* gen, Device device) {
  return random_float("rand", shape, dtype, gen, device,
                      [&](auto* p, int64_t n, uint64_t s, uint64_t f) {
                        DML_KERNEL(device, fill_uniform, p, n, s, f);
                      });
}
Tensor randn(const Shape& shape, DType dtype, Generator* gen, Device device) {
  return random_float("randn", shape, dtype, gen, device,
                      [&](auto* p, int64_t n, uint64_t s, uint64_t f) {
                        DML_KERNEL(device, fill_normal, p, n, s, f);
                      });
}
Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype, Generator* gen,
               Device device) {
  DML_CHECK(low < high, "randint: empty range [", low, ", ", high, ")");
  Generator& g = pick(gen);
  Tensor t = Tensor::empty(shape, DType::i64, device);
  DML_KERNEL(device, fill_randint, static_cast<int64_t*>(t.raw_data()), t.numel(), low, high,
             g.seed(), g.reserve(uint64_t(t.numel())));
  return t.to(dtype);
}
Tensor bernoulli(const Shape& shape, double p, DType dtype, Generator* gen, Device device) {
  DML_CHECK(p >= 0 && p <= 1, "bernoulli: probability ", p, " is outside [0, 1]");
  return random_float("bernoulli", shape, dtype, gen, device,
                      [&](auto* out, int64_t n, uint64_t s, uint64_t f) {
                        DML_KERNEL(device, fill_bernoulli, out, n, p, s, f);
                      });
}

Generator& default_generator() {
  static Generator g(0);
  return g;
}
void manual_seed(uint64_t seed) {
  default_generator().manual_seed(seed);
}

}  // namespace dml
