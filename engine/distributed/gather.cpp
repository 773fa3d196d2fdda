#include "engine/distributed/gather.h"

#include "engine/autograd.h"

namespace dml::dist {

Tensor all_gather_with_grad(Communicator& comm, const Tensor& local) {
  if (comm.size() == 1) return local;
  std::vector<int64_t> counts;
  Tensor out = comm.all_gather_rows(local.detach(), &counts);
  int64_t begin = 0;
  for (int r = 0; r < comm.rank(); ++r) begin += counts[r];
  const int64_t end = begin + counts[comm.rank()];
  // The communicator is the process's world (or outlives the graph, as a
  // test's does): the closure keeps a reference, not a copy.
  record("all_gather_with_grad", {local}, out, [&comm, begin, end](const Tensor& grad) {
    // Every rank's loss reached every gathered row: the sum over ranks of
    // the gradient, of which this rank's rows are its own.
    Tensor summed = grad.clone();
    comm.all_reduce_sum(summed);
    return std::vector<Tensor>{summed.slice(begin, end)};
  });
  return out;
}

}  // namespace dml::dist
