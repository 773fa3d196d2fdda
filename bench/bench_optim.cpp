// One Adam step over ResNet-50's parameters (159 tensors, 23.5M elements
// without the classifier): every parameter in one group, so Optimizer::step
// makes one multi-tensor call, against a group per parameter, one call each
// (the old per-parameter path). On the CPU both walk the same buffers with
// the same loops, so they should time alike: the step is memory bound and
// the saving is per call overhead, which the GPU pays per kernel launch.
#include <memory>
#include <vector>

#include "bench/bench_common.h"
#include "engine/ops.h"
#include "engine/optim/optimizer.h"
#include "layers/resnet.h"

namespace {

// Fresh parameters of ResNet-50's shapes with N(0, 1) gradients.
std::vector<dml::Tensor> resnet50_params() {
  dml::Generator gen(1);
  std::vector<dml::Tensor> params;
  for (const dml::Tensor& p : dml::nn::make_resnet("resnet50", 0)->parameters()) {
    dml::Tensor q = dml::zeros(p.shape(), p.dtype()).requires_grad_();
    q.set_grad(dml::randn(p.shape(), p.dtype(), &gen));
    params.push_back(q);
  }
  return params;
}

int64_t total_elements(const std::vector<dml::Tensor>& params) {
  int64_t n = 0;
  for (const dml::Tensor& p : params) n += p.numel();
  return n;
}

void run_adam(benchmark::State& state, bool fused) {
  std::vector<dml::Tensor> params = resnet50_params();
  std::vector<dml::ParamGroup> groups;
  if (fused) {
    groups.push_back({"all", params, 1e-3, 0});
  } else {
    for (const dml::Tensor& p : params) groups.push_back({"p", {p}, 1e-3, 0});
  }
  dml::Adam opt(std::move(groups));
  opt.step();  // slots allocated outside the timing
  for (auto _ : state) {
    opt.step();
    benchmark::ClobberMemory();
  }
  state.counters["tensors"] = double(params.size());
  // Read: param, grad, both moments; written: param and both moments.
  dml::bench::report_bytes(state, 7.0 * double(total_elements(params)) * sizeof(float));
}

void BM_adam_resnet50_per_parameter(benchmark::State& state) {
  run_adam(state, false);
}
void BM_adam_resnet50_fused(benchmark::State& state) {
  run_adam(state, true);
}
BENCHMARK(BM_adam_resnet50_per_parameter)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_adam_resnet50_fused)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
