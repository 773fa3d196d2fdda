#include "dml/miners/semi_hard.h"

#include "dml/miners/geometry.h"
#include "dml/miners/registry.h"
#include "dml/miners/tuples.h"
#include "dml/params.h"

namespace dml::miners {

MinedTuples SemiHardMiner::mine(const Tensor& embeddings, const Tensor& labels, Generator&) {
  Labels y = batch_labels(embeddings, labels, kName);
  HostMatrix d = host_sphere_distances(embeddings);
  Pairs pairs = all_pairs(y);
  Triplets t;
  for (size_t i = 0; i < pairs.pos.size(); ++i) {
    const int64_t a = pairs.pos.anchor[i], p = pairs.pos.other[i];
    const double d_ap = d(a, p);
    int64_t best = -1;
    for (int64_t n = 0; n < d.n; ++n) {
      if (y[size_t(n)] == y[size_t(a)]) continue;
      const double d_an = d(a, n);
      if (d_an > d_ap && d_an < d_ap + params_.margin && (best < 0 || d_an < d(a, best))) best = n;
    }
    if (best >= 0) t.add(a, p, best);
  }
  return mined_triplets(t);
}

std::string SemiHardMiner::describe() const {
  return describe_params(kName, {{"margin", params_.margin}});
}

namespace {

[[maybe_unused]] const bool registered = miner_registry().add([] {
  const SemiHardParams semi_hard;
  return MinerEntry{
      SemiHardMiner::kName,
      "Schroff et al. 2015: hardest negative inside (d(a,p), d(a,p) + margin) per positive pair",
      {ParamSpec::positive("margin", semi_hard.margin, "width of the semi-hard band")},
      [](const MinerParams& p) {
        return std::make_unique<SemiHardMiner>(SemiHardParams{p.at("margin")});
      }};
}());

}  // namespace

}  // namespace dml::miners
