#pragma once
// A rank's share of n rows (a global batch's samples, a split's eval
// batches): contiguous and balanced (the first n % ranks ranks take one
// more), so the shards of ranks 0 .. ranks-1, concatenated in rank order,
// are the rows 0 .. n-1 in their order. Gathering every rank's results in
// rank order then gives exactly what one process computes on all rows.
#include <cstdint>

namespace dml::data {

struct Shard {
  int64_t begin = 0, end = 0;  // [begin, end)
  int64_t size() const { return end - begin; }
};

Shard shard_of(int64_t n, int64_t rank, int64_t ranks);

}  // namespace dml::data
