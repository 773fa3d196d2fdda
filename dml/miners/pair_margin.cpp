#include "dml/miners/pair_margin.h"

#include "dml/miners/geometry.h"
#include "dml/miners/registry.h"
#include "dml/miners/tuples.h"
#include "dml/params.h"

namespace dml::miners {

MinedTuples PairMarginMiner::mine(const Tensor& embeddings, const Tensor& labels, Generator&) {
  Labels y = batch_labels(embeddings, labels, kName);
  HostMatrix d = host_sphere_distances(embeddings);
  Pairs all = all_pairs(y), out;
  for (size_t i = 0; i < all.pos.size(); ++i)
    if (d(all.pos.anchor[i], all.pos.other[i]) > params_.pos_margin)
      out.pos.add(all.pos.anchor[i], all.pos.other[i]);
  for (size_t i = 0; i < all.neg.size(); ++i)
    if (d(all.neg.anchor[i], all.neg.other[i]) < params_.neg_margin)
      out.neg.add(all.neg.anchor[i], all.neg.other[i]);
  return mined_pairs(out);
}

std::string PairMarginMiner::describe() const {
  return describe_params(kName,
                         {{"pos_margin", params_.pos_margin}, {"neg_margin", params_.neg_margin}});
}

namespace {

[[maybe_unused]] const bool registered = miner_registry().add([] {
  const PairMarginParams pair_margin;
  return MinerEntry{
      PairMarginMiner::kName,
      "positive pairs farther than pos_margin, negative pairs closer than neg_margin",
      {ParamSpec::non_negative("pos_margin", pair_margin.pos_margin, "positives farther are kept"),
       ParamSpec::non_negative("neg_margin", pair_margin.neg_margin, "negatives closer are kept")},
      [](const MinerParams& p) {
        return std::make_unique<PairMarginMiner>(
            PairMarginParams{p.at("pos_margin"), p.at("neg_margin")});
      }};
}());

}  // namespace

}  // namespace dml::miners
