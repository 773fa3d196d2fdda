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

void Adam::coefficients(const ParamGroup& group, const Batch& b, void* out) const {
  const kernels::AdamParams p{group.lr,           opt_.beta1, opt_.beta2, opt_.eps,
                              group.weight_decay, decoupled_, b.step};
  write_coefficients<kernels::AdamCoeffs>(b.params[0].dtype(), p, out);
}

void Adam::update(const Batch& b, const void* coefficients, const float* skip_if) {
  ops::dispatch_float(decoupled_ ? "AdamW" : "Adam", b.params[0].dtype(), [&](auto t) {
    using T = decltype(t);
    std::vector<kernels::AdamBuffers<T>> list;
    list.reserve(b.params.size());
    for (size_t i = 0; i < b.params.size(); ++i)
      list.push_back({ops::kernel_data<T>(b.params[i]), ops::kernel_data<T>(b.grads[i]),
                      ops::kernel_data<T>(b.slots[0][i]), ops::kernel_data<T>(b.slots[1][i]),
                      b.params[i].numel()});
    DML_KERNEL(b.params[0].device(), adam_step<T>, list,
               static_cast<const kernels::AdamCoeffs<T>*>(coefficients), skip_if);
  });
}

}  // namespace dml
