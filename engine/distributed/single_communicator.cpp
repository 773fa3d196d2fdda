#include "engine/distributed/single_communicator.h"

#include <cmath>

#include "engine/distributed/collective_args.h"

namespace dml::dist {

void check_timeout(double seconds) {
  DML_CHECK(std::isfinite(seconds) && seconds > 0, "set_timeout: ", seconds,
            " s is not a positive time; distributed.timeout_seconds must be > 0");
}

void SingleCommunicator::all_reduce_sum(Tensor& t) {
  check_reducible(t, "all_reduce_sum");
}

std::unique_ptr<PendingCollective> SingleCommunicator::all_reduce_sum_async(Tensor& t) {
  check_reducible(t, "all_reduce_sum");
  return std::make_unique<CompletedCollective>();
}

Tensor SingleCommunicator::all_gather_rows(const Tensor& local, std::vector<int64_t>* counts) {
  check_row_layouts(encode_row_layout(local), 1);
  if (counts) *counts = {local.size(0)};
  return local;
}

void SingleCommunicator::broadcast(Tensor&, int root) {
  check_root(root, 1, "broadcast");
}

void SingleCommunicator::set_timeout(double seconds) {
  check_timeout(seconds);
}

}  // namespace dml::dist
