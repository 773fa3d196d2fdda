#pragma once
// Which parameters share a gradient bucket: reverse parameter order (the
// order backward finishes them), up to a byte budget per bucket, a tensor
// never split, and one dtype and device per bucket (a bucket is one flat
// buffer). Every rank plans the same buckets from the same list.
#include <vector>

#include "engine/tensor.h"

namespace dml::dist {

// Parameter indices per bucket, buckets in launch order. A parameter above
// the budget gets a bucket of its own.
std::vector<std::vector<size_t>> plan_buckets(const std::vector<Tensor>& params, double bucket_mb);

}  // namespace dml::dist
