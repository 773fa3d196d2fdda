#include "engine/optim/grad_unscale.h"

#include "engine/kernel_dispatch.h"
#include "engine/ops/common.h"
#include "kernels/cpu/optim.h"

#ifdef DML_WITH_CUDA
#include "kernels/cuda/optim.h"
#endif

namespace dml {

namespace {

// The gradients of one dtype: one multi-tensor call.
template <class T>
struct Bucket {
  std::vector<T*> data;
  std::vector<int64_t> sizes;
  void add(const Tensor& t) {
    data.push_back(ops::kernel_data<T>(t));
    sizes.push_back(t.numel());
  }
};

}  // namespace

Tensor non_finite_check_and_unscale(const std::vector<Tensor>& grads, double inv_scale) {
  constexpr const char* kOp = "non_finite_check_and_unscale";
  const Tensor* first = nullptr;
  Bucket<float> f32;
  Bucket<double> f64;
  for (const Tensor& g : grads) {
    if (!g.defined()) continue;
    if (first == nullptr) first = &g;
    DML_CHECK(g.device() == first->device(), kOp,
              ": gradients on different devices: ", describe(*first), " and ", describe(g),
              "; check each device's list apart");
    ops::check_float(kOp, g);
    if (g.dtype() == DType::f32)
      f32.add(g);
    else
      f64.add(g);
  }
  const Device device = first ? first->device() : Device::cpu();
  Tensor found = zeros({}, DType::f32, device);
  float* flag = ops::kernel_data<float>(found);
  if (!f32.data.empty())
    DML_KERNEL(device, non_finite_check_and_unscale<float>, f32.data, f32.sizes, float(inv_scale),
               flag);
  if (!f64.data.empty())
    DML_KERNEL(device, non_finite_check_and_unscale<double>, f64.data, f64.sizes, inv_scale, flag);
  return found;
}

}  // namespace dml
