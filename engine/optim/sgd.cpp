#include "engine/ops/common.h"
#include "engine/optim/optimizer.h"
#include "kernels/cpu/optim.h"

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
  ops::check_cpu("SGD", {&param, &grad});
  cpu::SgdParams p{group.lr,           opt_.momentum, opt_.dampening,
                   group.weight_decay, opt_.nesterov, step == 1};
  ops::dispatch_float("SGD", param.dtype(), [&](auto t) {
    using T = decltype(t);
    cpu::sgd_step<T>(param.data<T>(), grad.data<T>(), slots.empty() ? nullptr : slots[0].data<T>(),
                     param.numel(), p);
  });
}

}  // namespace dml
