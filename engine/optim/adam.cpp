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

void Adam::update(const ParamGroup& group, const Batch& b, const float* skip_if) {
  // State buffers live on the parameter's device (Optimizer::step makes them
  // with zeros_like), so one multi-tensor kernel updates the batch in place.
  const char* name = decoupled_ ? "AdamW" : "Adam";
  for (size_t i = 0; i < b.params.size(); ++i)
    ops::check_same_device(name, {&b.params[i], &b.grads[i]});
  const cpu::AdamParams p{group.lr,           opt_.beta1, opt_.beta2, opt_.eps,
                          group.weight_decay, decoupled_, b.step};
  ops::dispatch_float(name, b.params[0].dtype(), [&](auto t) {
    using T = decltype(t);
    std::vector<kernels::AdamBuffers<T>> list;
    list.reserve(b.params.size());
    for (size_t i = 0; i < b.params.size(); ++i)
      list.push_back({ops::kernel_data<T>(b.params[i]), ops::kernel_data<T>(b.grads[i]),
                      ops::kernel_data<T>(b.slots[0][i]), ops::kernel_data<T>(b.slots[1][i]),
                      b.params[i].numel()});
    DML_KERNEL(b.params[0].device(), adam_step<T>, list, p, skip_if);
  });
}

}  // namespace dml
