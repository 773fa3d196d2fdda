#pragma once
// The all-gather that losses see the global batch through: every rank's
// rows in rank order, with the gradient flowing back to each rank's own
// rows. Every rank's loss may reach every gathered row, so the backward
// sums the gathered gradient over ranks and keeps this rank's slice (the
// reduce-scatter of the forward's gather). With each rank's loss scaled by
// 1 / world size, the summed parameter gradients equal one process's
// gradients on the whole batch.
#include "engine/distributed/communicator.h"

namespace dml::dist {

// local [n_r, ...] -> [sum n_r, ...]; records autograd history when local
// requires grad. A world of one returns `local` itself.
Tensor all_gather_with_grad(Communicator& comm, const Tensor& local);

}  // namespace dml::dist
