#include "engine/kernel_dispatch.h"
#include "engine/ops/common.h"
#include "engine/optim/optimizer.h"
#include "kernels/cpu/optim.h"

#ifdef DML_WITH_CUDA
#include "kernels/cuda/optim.h"
#endif

namespace dml {

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions options)
    : Adam(std::move(groups), options, false) {}

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions options, bool decoupled)
    : Optimizer(std::move(groups)), opt_(options), decoupled_(decoupled) {
  DML_CHECK(opt_.beta1 >= 0 && opt_.beta1 < 1 && opt_.beta2 >= 0 && opt_.beta2 < 1, "Adam: betas (",
            opt_.beta1, ", ", opt_.beta2, ") must lie in [0, 1)");
}

AdamW::AdamW(std::vector<ParamGroup> groups, AdamOptions options)
    : Adam(std::move(groups), options, true) {}

std::vector<std::string> Adam::slot_names() const {
  return {"exp_avg", "exp_avg_sq"};
}

void Adam::update(const ParamGroup& group, Tensor& param, const Tensor& grad,
                  std::vector<Tensor>& slots, int64_t step) {
  // State buffers live on the parameter's device (Optimizer::step makes them
  // with zeros_like), so one kernel updates the whole buffer in place there.
  ops::check_same_device(decoupled_ ? "AdamW" : "Adam", {&param, &grad});
  cpu::AdamParams p{group.lr,           opt_.beta1, opt_.beta2, opt_.eps,
                    group.weight_decay, decoupled_, step};
  ops::dispatch_float("Adam", param.dtype(), [&](auto t) {
    using T = decltype(t);
    DML_KERNEL(param.device(), adam_step<T>, ops::kernel_data<T>(param), ops::kernel_data<T>(grad),
               ops::kernel_data<T>(slots[0]), ops::kernel_data<T>(slots[1]), param.numel(), p);
  });
}

}  // namespace dml
