#include "dml/train/rank_sum.h"

namespace dml::train {

int64_t sum_over_ranks(dist::Communicator& ranks, int64_t count) {
  if (ranks.size() == 1) return count;
  int64_t sum = 0;
  for (const int64_t c : ranks.all_gather_value(count)) sum += c;
  return sum;
}

}  // namespace dml::train
