#include "dml/miners/registry.h"

#include "dml/miners/batch_hard.h"
#include "dml/miners/distance_weighted.h"
#include "dml/miners/multi_similarity.h"
#include "dml/miners/pair_margin.h"
#include "dml/miners/random_triplet.h"
#include "dml/miners/semi_hard.h"

namespace dml::miners {

namespace {

using P = ParamSpec;

std::vector<MinerEntry> build_table() {
  const RandomTripletParams random;
  const SemiHardParams semi_hard;
  const DistanceWeightedParams dw;
  const MultiSimilarityMinerParams ms;
  const PairMarginParams pair_margin;
  return {
      {RandomTripletMiner::kName,
       "random valid triplets, a fixed number per anchor",
       {P::whole("triplets_per_anchor", double(random.triplets_per_anchor), 1, 1000,
                 "triplets drawn for each anchor")},
       [](const MinerParams& p) {
         return std::make_unique<RandomTripletMiner>(
             RandomTripletParams{int64_t(p.at("triplets_per_anchor"))});
       }},
      {SemiHardMiner::kName,
       "Schroff et al. 2015: hardest negative inside (d(a,p), d(a,p) + margin) per positive pair",
       {P::positive("margin", semi_hard.margin, "width of the semi-hard band")},
       [](const MinerParams& p) {
         return std::make_unique<SemiHardMiner>(SemiHardParams{p.at("margin")});
       }},
      {BatchHardMiner::kName,
       "Hermans et al. 2017: farthest positive and nearest negative per anchor",
       {},
       [](const MinerParams&) { return std::make_unique<BatchHardMiner>(); }},
      {DistanceWeightedMiner::kName,
       "Wu et al. 2017: one negative per positive pair, weighted by 1/q(d) on the sphere",
       {P::open_interval("cutoff", dw.cutoff, 0, 2, "distances below count as this"),
        P::real("nonzero_loss_cutoff", dw.nonzero_loss_cutoff, 0, 2,
                "negatives this far are never drawn")},
       [](const MinerParams& p) {
         return std::make_unique<DistanceWeightedMiner>(
             DistanceWeightedParams{p.at("cutoff"), p.at("nonzero_loss_cutoff")});
       }},
      {MultiSimilarityMiner::kName,
       "Wang et al. 2019: pairs harder than the hardest of the other kind, up to epsilon",
       {P::non_negative("epsilon", ms.epsilon, "slack of the comparison")},
       [](const MinerParams& p) {
         return std::make_unique<MultiSimilarityMiner>(MultiSimilarityMinerParams{p.at("epsilon")});
       }},
      {PairMarginMiner::kName,
       "positive pairs farther than pos_margin, negative pairs closer than neg_margin",
       {P::non_negative("pos_margin", pair_margin.pos_margin, "positives farther are kept"),
        P::non_negative("neg_margin", pair_margin.neg_margin, "negatives closer are kept")},
       [](const MinerParams& p) {
         return std::make_unique<PairMarginMiner>(
             PairMarginParams{p.at("pos_margin"), p.at("neg_margin")});
       }},
  };
}

}  // namespace

const std::vector<MinerEntry>& miner_table() {
  static const std::vector<MinerEntry> table = build_table();
  return table;
}

std::vector<std::string> miner_names() {
  std::vector<std::string> names;
  for (const MinerEntry& e : miner_table()) names.push_back(e.name);
  return names;
}

const MinerEntry& miner_entry(const std::string& name) {
  for (const MinerEntry& e : miner_table())
    if (e.name == name) return e;
  throw_unknown_name("miner", name, miner_names());
}

std::unique_ptr<Miner> make_miner(const std::string& name, const MinerParams& params) {
  const MinerEntry& entry = miner_entry(name);
  return entry.make(resolve_params("miner", name, entry.params, params));
}

}  // namespace dml::miners
