#include "engine/distributed/bucket_plan.h"

#include <cmath>

namespace dml::dist {

std::vector<std::vector<size_t>> plan_buckets(const std::vector<Tensor>& params, double bucket_mb) {
  DML_CHECK(std::isfinite(bucket_mb) && bucket_mb > 0, "gradient buckets: bucket_mb ", bucket_mb,
            " is not a positive size; distributed.bucket_mb must be > 0");
  const double budget = bucket_mb * 1024 * 1024;
  std::vector<std::vector<size_t>> buckets;
  double filled = 0;
  for (size_t k = params.size(); k-- > 0;) {
    const Tensor& p = params[k];
    const bool fits = !buckets.empty() && filled + double(p.nbytes()) <= budget;
    const bool same_kind = !buckets.empty() &&
                           params[buckets.back().front()].dtype() == p.dtype() &&
                           params[buckets.back().front()].device() == p.device();
    if (!fits || !same_kind) {
      buckets.emplace_back();
      filled = 0;
    }
    buckets.back().push_back(k);
    filled += double(p.nbytes());
  }
  return buckets;
}

}  // namespace dml::dist
