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

void SGD::coefficients(const ParamGroup& group, const Batch& b, void* out) const {
  const kernels::SgdParams p{group.lr,           opt_.momentum, opt_.dampening,
                             group.weight_decay, opt_.nesterov, b.step == 1};
  write_coefficients<kernels::SgdCoeffs>(b.params[0].dtype(), p, out);
}

void SGD::update(const Batch& b, const void* coefficients, const float* skip_if) {
  ops::dispatch_float("SGD", b.params[0].dtype(), [&](auto t) {
    using T = decltype(t);
    std::vector<kernels::SgdBuffers<T>> list;
    list.reserve(b.params.size());
    for (size_t i = 0; i < b.params.size(); ++i)
      list.push_back({ops::kernel_data<T>(b.params[i]), ops::kernel_data<T>(b.grads[i]),
                      b.slots.empty() ? nullptr : ops::kernel_data<T>(b.slots[0][i]),
                      b.params[i].numel()});
    DML_KERNEL(b.params[0].device(), sgd_step<T>, list,
               static_cast<const kernels::SgdCoeffs<T>*>(coefficients), skip_if);
  });
}

}  // namespace dml
