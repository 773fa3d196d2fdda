#include "dml/miners/random_triplet.h"

#include <algorithm>

#include "dml/miners/registry.h"
#include "dml/miners/tuples.h"
#include "dml/params.h"

namespace dml::miners {

namespace {

// The element of `from` that a uniform u in [0, 1) selects.
int64_t pick_uniform(const std::vector<int64_t>& from, double u) {
  const size_t i = std::min(from.size() - 1, size_t(u * double(from.size())));
  return from[i];
}

}  // namespace

RandomTripletMiner::RandomTripletMiner(RandomTripletParams params) : params_(params) {
  DML_CHECK(params.triplets_per_anchor >= 1, kName,
            ": triplets_per_anchor must be at least 1, got ", params.triplets_per_anchor);
}

MinedTuples RandomTripletMiner::mine(const Tensor& embeddings, const Tensor& labels,
                                     Generator& gen) {
  Labels y = batch_labels(embeddings, labels, kName);
  const int64_t b = int64_t(y.size());
  const int64_t k = params_.triplets_per_anchor;
  // One draw of 2 uniforms per triplet of every anchor, so the generator
  // advances by the same amount whatever the labels are.
  std::vector<double> u = rand({b * k * 2}, DType::f64, &gen).to_vector<double>();
  Triplets t;
  for (int64_t a = 0; a < b; ++a) {
    std::vector<int64_t> pos, neg;
    for (int64_t j = 0; j < b; ++j) {
      if (j == a) continue;
      (y[size_t(j)] == y[size_t(a)] ? pos : neg).push_back(j);
    }
    if (pos.empty() || neg.empty()) continue;
    for (int64_t i = 0; i < k; ++i) {
      const size_t draw = size_t((a * k + i) * 2);
      t.add(a, pick_uniform(pos, u[draw]), pick_uniform(neg, u[draw + 1]));
    }
  }
  return mined_triplets(t);
}

std::string RandomTripletMiner::describe() const {
  return describe_params(kName, {{"triplets_per_anchor", double(params_.triplets_per_anchor)}});
}

namespace {

[[maybe_unused]] const bool registered = miner_registry().add([] {
  const RandomTripletParams random;
  return MinerEntry{RandomTripletMiner::kName,
                    "random valid triplets, a fixed number per anchor",
                    {ParamSpec::whole("triplets_per_anchor", double(random.triplets_per_anchor), 1,
                                      1000, "triplets drawn for each anchor")},
                    [](const MinerParams& p) {
                      return std::make_unique<RandomTripletMiner>(
                          RandomTripletParams{int64_t(p.at("triplets_per_anchor"))});
                    }};
}());

}  // namespace

}  // namespace dml::miners
