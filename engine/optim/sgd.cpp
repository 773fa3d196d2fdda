#include "engine/kernel_dispatch.h"
#include "engine/ops/common.h"
#include "engine/optim/optimizer.h"
#include "kernels/cpu/optim.h"

#ifdef DML_WITH_CUDA
#include "kernels/cuda/optim.h"
#endif

namespace dml {

SGD::SGD(std::vector<ParamGroup> groups, SgdOptions options)
    : Optimizer(std::move(groups)), opt_(options) {
  DML_CHECK(!opt_.nesterov || (opt_.momentum > 0 && opt_.dampening == 0),
            "SGD: Nesterov momentum needs momentum > 0 and dampening = 0");
}

std::vector<std::string> SGD::slot_names() const {
  return opt_.momentum != 0 ? std::vector<std::string>{"momentum"} : std::vector<std::string>{};
}

void SGD::update(const ParamGroup& group, Tensor& param, const Tensor& grad,
                 std::vector<Tensor>& slots, int64_t step) {
  // State buffers live on the parameter's device (Optimizer::step makes them
  // with zeros_like), so one kernel updates the whole buffer in place there.
  ops::check_same_device("SGD", {&param, &grad});
  cpu::SgdParams p{group.lr,           opt_.momentum, opt_.dampening,
                   group.weight_decay, opt_.nesterov, step == 1};
  ops::dispatch_float("SGD", param.dtype(), [&](auto t) {
    using T = decltype(t);
    DML_KERNEL(param.device(), sgd_step<T>, ops::kernel_data<T>(param), ops::kernel_data<T>(grad),
               slots.empty() ? nullptr : ops::kernel_data<T>(slots[0]), param.numel(), p);
  });
}

}  // namespace dml
