#include "fairness/subsets.h"

#include <algorithm>
#include <map>

#include "dml/data/permutation.h"
#include "engine/autograd.h"
#include "engine/ops.h"

namespace dml::fairness {

Halves stratified_halves(const std::vector<int64_t>& strata, Generator& gen) {
  std::map<int64_t, std::vector<int64_t>> members;
  for (size_t i = 0; i < strata.size(); ++i) members[strata[i]].push_back(int64_t(i));
  Halves halves;
  for (const auto& [stratum, indices] : members) {
    const std::vector<int64_t> order = data::random_permutation(int64_t(indices.size()), gen);
    const size_t half = indices.size() / 2;
    for (size_t p = 0; p < order.size(); ++p)
      (p < half ? halves.first : halves.second).push_back(indices[size_t(order[p])]);
  }
  std::sort(halves.first.begin(), halves.first.end());
  std::sort(halves.second.begin(), halves.second.end());
  return halves;
}

std::vector<int64_t> random_subset(const std::vector<int64_t>& indices, int64_t count,
                                   Generator& gen) {
  std::vector<int64_t> chosen;
  if (count >= int64_t(indices.size())) {
    chosen = indices;
  } else {
    const std::vector<int64_t> order = data::random_permutation(int64_t(indices.size()), gen);
    for (int64_t p = 0; p < count; ++p) chosen.push_back(indices[size_t(order[size_t(p)])]);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

Tensor rows_at(const Tensor& x, const std::vector<int64_t>& indices) {
  NoGradGuard no_grad;
  return index_select(x, 0, from_vector(indices, {int64_t(indices.size())}));
}

std::vector<int64_t> ids_at(const std::vector<int64_t>& ids, const std::vector<int64_t>& indices) {
  std::vector<int64_t> out;
  out.reserve(indices.size());
  for (int64_t i : indices) out.push_back(ids[size_t(i)]);
  return out;
}

}  // namespace dml::fairness
