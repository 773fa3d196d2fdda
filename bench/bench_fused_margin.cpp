// The margin loss on distance-weighted triplets, forward and backward, over
// the DML protocol's batch (112 = 56 classes x 2, 128-d f32 embeddings): the
// fused kernel chain (dml/losses/fused_margin.h, the trainer's path) against
// the composite one (the distances read to the host for the miner, the
// triplets uploaded, the loss as ~30 separate ops). On a GPU the fused path
// also drops the host read; here both run on the CPU.
#include <memory>
#include <vector>

#include "bench/bench_common.h"
#include "dml/losses/margin.h"
#include "dml/miners/distance_weighted.h"
#include "engine/ops.h"

namespace {

void run_margin(benchmark::State& state, bool fused) {
  const int64_t classes = 56, batch = 2 * classes, dim = 128;
  dml::Generator gen(1);
  dml::Tensor e = dml::randn({batch, dim}, dml::DType::f32, &gen).requires_grad_();
  std::vector<int64_t> y;
  for (int64_t i = 0; i < batch; ++i) y.push_back(i / 2);
  const dml::Tensor labels = dml::from_vector(y, {batch});
  dml::losses::MarginLoss loss;
  dml::miners::DistanceWeightedMiner miner;
  for (auto _ : state) {
    // Composite: the base class's forward_mined (the miner on the host, then
    // the loss's separate ops), which MarginLoss's override replaces.
    dml::Tensor value = fused ? loss.forward_mined(e, labels, miner, gen)
                              : loss.Loss::forward_mined(e, labels, miner, gen);
    value.backward();
    benchmark::DoNotOptimize(e.grad().raw_data());
  }
  state.counters["batch"] = double(batch);
}

void BM_margin_distance_weighted_composite(benchmark::State& state) {
  run_margin(state, false);
}
void BM_margin_distance_weighted_fused(benchmark::State& state) {
  run_margin(state, true);
}
BENCHMARK(BM_margin_distance_weighted_composite)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_margin_distance_weighted_fused)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
