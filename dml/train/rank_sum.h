#pragma once
// A count kept by each rank (skipped images of its shard) summed over the
// ranks, so every rank reports the whole run's; one process: the count.
#include <cstdint>

#include "engine/distributed/communicator.h"

namespace dml::train {

int64_t sum_over_ranks(dist::Communicator& ranks, int64_t count);

}  // namespace dml::train
