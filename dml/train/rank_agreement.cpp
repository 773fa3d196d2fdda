#include "dml/train/rank_agreement.h"

#include <cstring>

#include "base/error.h"

namespace dml::train {

namespace {

// FNV-1a over every tensor's bytes, in order.
uint64_t hash_bytes(const std::vector<Tensor>& tensors) {
  uint64_t hash = 14695981039346656037ull;
  for (const Tensor& t : tensors) {
    const Tensor host = t.to(Device::cpu());
    const auto* bytes = static_cast<const unsigned char*>(host.raw_data());
    for (size_t i = 0; i < host.nbytes(); ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  }
  return hash;
}

}  // namespace

void check_ranks_agree(dist::Communicator& ranks, const std::vector<Tensor>& tensors,
                       const std::string& what) {
  if (ranks.size() == 1) return;
  int64_t mine = 0;
  const uint64_t hash = hash_bytes(tensors);
  std::memcpy(&mine, &hash, sizeof mine);
  const std::vector<int64_t> all = ranks.all_gather_value(mine);
  std::string differ;
  for (size_t r = 1; r < all.size(); ++r)
    if (all[r] != all[0]) differ += (differ.empty() ? "" : ", ") + std::to_string(r);
  DML_CHECK(differ.empty(), "the ", what, " of rank(s) ", differ, " differ from rank 0's: the ",
            "ranks diverged, so rank 0's checkpoint is not every rank's state; report this with ",
            "the run's config (a resume continues from the last checkpoint)");
}

}  // namespace dml::train
