#include "dml/miners/batch_hard.h"

#include "dml/miners/geometry.h"
#include "dml/miners/registry.h"
#include "dml/miners/tuples.h"

namespace dml::miners {

MinedTuples BatchHardMiner::mine(const Tensor& embeddings, const Tensor& labels, Generator&) {
  Labels y = batch_labels(embeddings, labels, kName);
  HostMatrix d = host_sphere_distances(embeddings);
  Triplets t;
  for (int64_t a = 0; a < d.n; ++a) {
    int64_t hardest_pos = -1, hardest_neg = -1;
    for (int64_t j = 0; j < d.n; ++j) {
      if (j == a) continue;
      if (y[size_t(j)] == y[size_t(a)]) {
        if (hardest_pos < 0 || d(a, j) > d(a, hardest_pos)) hardest_pos = j;
      } else if (hardest_neg < 0 || d(a, j) < d(a, hardest_neg)) {
        hardest_neg = j;
      }
    }
    if (hardest_pos >= 0 && hardest_neg >= 0) t.add(a, hardest_pos, hardest_neg);
  }
  return mined_triplets(t);
}

namespace {

[[maybe_unused]] const bool registered = miner_registry().add([] {
  return MinerEntry{BatchHardMiner::kName,
                    "Hermans et al. 2017: farthest positive and nearest negative per anchor",
                    {},
                    [](const MinerParams&) { return std::make_unique<BatchHardMiner>(); }};
}());

}  // namespace

}  // namespace dml::miners
