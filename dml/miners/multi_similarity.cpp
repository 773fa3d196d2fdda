#include "dml/miners/multi_similarity.h"

#include <algorithm>
#include <limits>

#include "dml/miners/geometry.h"
#include "dml/miners/registry.h"
#include "dml/miners/tuples.h"
#include "dml/params.h"

namespace dml::miners {

MinedTuples MultiSimilarityMiner::mine(const Tensor& embeddings, const Tensor& labels, Generator&) {
  Labels y = batch_labels(embeddings, labels, kName);
  HostMatrix s = host_sphere_similarities(embeddings);
  const double inf = std::numeric_limits<double>::infinity();
  Pairs out;
  for (int64_t a = 0; a < s.n; ++a) {
    double min_pos = inf, max_neg = -inf;
    for (int64_t j = 0; j < s.n; ++j) {
      if (j == a) continue;
      if (y[size_t(j)] == y[size_t(a)])
        min_pos = std::min(min_pos, s(a, j));
      else
        max_neg = std::max(max_neg, s(a, j));
    }
    if (min_pos == inf || max_neg == -inf) continue;  // no positive or no negative
    for (int64_t j = 0; j < s.n; ++j) {
      if (j == a) continue;
      if (y[size_t(j)] == y[size_t(a)]) {
        if (s(a, j) < max_neg + params_.epsilon) out.pos.add(a, j);
      } else if (s(a, j) > min_pos - params_.epsilon) {
        out.neg.add(a, j);
      }
    }
  }
  return mined_pairs(out);
}

std::string MultiSimilarityMiner::describe() const {
  return describe_params(kName, {{"epsilon", params_.epsilon}});
}

namespace {

[[maybe_unused]] const bool registered = miner_registry().add([] {
  const MultiSimilarityMinerParams ms;
  return MinerEntry{
      MultiSimilarityMiner::kName,
      "Wang et al. 2019: pairs harder than the hardest of the other kind, up to epsilon",
      {ParamSpec::non_negative("epsilon", ms.epsilon, "slack of the comparison")},
      [](const MinerParams& p) {
        return std::make_unique<MultiSimilarityMiner>(MultiSimilarityMinerParams{p.at("epsilon")});
      }};
}());

}  // namespace

}  // namespace dml::miners
