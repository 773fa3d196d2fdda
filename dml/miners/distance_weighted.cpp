#include "dml/miners/distance_weighted.h"

#include "dml/miners/geometry.h"
#include "dml/miners/registry.h"
#include "dml/miners/tuples.h"
#include "dml/params.h"
#include "engine/distance_weighted_margin.h"

namespace dml::miners {

DistanceWeightedMiner::DistanceWeightedMiner(DistanceWeightedParams params) : params_(params) {
  DML_CHECK(params.cutoff > 0 && params.cutoff < params.nonzero_loss_cutoff &&
                params.nonzero_loss_cutoff <= 2,
            kName,
            ": needs 0 < cutoff < nonzero_loss_cutoff <= 2 (distances on the unit sphere), got ",
            params.cutoff, " and ", params.nonzero_loss_cutoff);
}

MinedTuples DistanceWeightedMiner::mine(const Tensor& embeddings, const Tensor& labels,
                                        Generator& gen) {
  const Labels y = batch_labels(embeddings, labels, kName);
  const HostMatrix d = host_sphere_distances(embeddings);
  const DistanceWeightedMarginOptions options{.cutoff = params_.cutoff,
                                              .nonzero_loss_cutoff = params_.nonzero_loss_cutoff};
  const Tensor drawn = distance_weighted_negatives(
      from_vector(d.values, {d.n, d.n}), from_vector(y, {d.n}), embeddings.size(1), options, gen);
  const int64_t* negatives = drawn.data<int64_t>();
  // Slots in row-major order: the triplets come out in the order of their pairs.
  Triplets t;
  for (int64_t a = 0; a < d.n; ++a)
    for (int64_t p = 0; p < d.n; ++p)
      if (const int64_t n = negatives[a * d.n + p]; n >= 0) t.add(a, p, n);
  return mined_triplets(t);
}

std::string DistanceWeightedMiner::describe() const {
  return describe_params(
      kName, {{"cutoff", params_.cutoff}, {"nonzero_loss_cutoff", params_.nonzero_loss_cutoff}});
}

namespace {

[[maybe_unused]] const bool registered = miner_registry().add([] {
  const DistanceWeightedParams dw;
  return MinerEntry{
      DistanceWeightedMiner::kName,
      "Wu et al. 2017: one negative per positive pair, weighted by 1/q(d) on the sphere",
      {ParamSpec::open_interval("cutoff", dw.cutoff, 0, 2, "distances below count as this"),
       ParamSpec::real("nonzero_loss_cutoff", dw.nonzero_loss_cutoff, 0, 2,
                       "negatives this far are never drawn")},
      [](const MinerParams& p) {
        return std::make_unique<DistanceWeightedMiner>(
            DistanceWeightedParams{p.at("cutoff"), p.at("nonzero_loss_cutoff")});
      }};
}());

}  // namespace

}  // namespace dml::miners
