#include "dml/data/shard.h"

#include <algorithm>

#include "base/error.h"

namespace dml::data {

Shard shard_of(int64_t n, int64_t rank, int64_t ranks) {
  DML_CHECK(n >= 0 && ranks >= 1 && rank >= 0 && rank < ranks, "shard: rank ", rank, " of ", ranks,
            " over ", n, " rows is not a valid share");
  const int64_t base = n / ranks, extra = n % ranks;
  const int64_t begin = rank * base + std::min(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

}  // namespace dml::data
