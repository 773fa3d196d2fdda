#pragma once
// CUDA tensors between the ranks of an MPI world, over NCCL (only in a
// build with CUDA, MPI and NCCL). One NCCL communicator per process on
// cuda:local_rank, its collectives queued on the engine's stream of that
// device (so they are ordered with the kernels around them), each waited
// for by polling a CUDA event and NCCL's asynchronous error under the same
// timeout and watch as the MPI collectives.
//
// Compiled and linked in the CUDA build but not yet run on GPUs: the
// development machines have none.
#include <functional>
#include <memory>
#include <vector>

#include "engine/distributed/collective_wait.h"
#include "engine/distributed/communicator.h"

namespace dml::dist {

struct NcclState;  // the communicator and what its collectives share (the .cpp)

class NcclCollectives {
 public:
  // Broadcasts rank 0's bytes to every rank (the NCCL unique id, over MPI).
  using ShareId = std::function<void(void* bytes, size_t n)>;
  // Collective: every rank calls it (on its first CUDA collective).
  NcclCollectives(int rank, int size, int device, const ShareId& share_id,
                  const WaitPolicy& policy);
  // The NCCL communicator lives as long as the process, like the engine's
  // CUDA streams: at exit the CUDA runtime may be gone before a destructor
  // could call ncclCommDestroy.
  NcclCollectives(const NcclCollectives&) = delete;
  NcclCollectives& operator=(const NcclCollectives&) = delete;

  std::unique_ptr<PendingCollective> all_reduce_sum(Tensor& t, const WaitPolicy& policy);
  // `out` is [sum counts, ...] on this rank's device; `counts` every rank's rows.
  void all_gather_rows(const Tensor& local, const std::vector<int64_t>& counts, Tensor& out,
                       const WaitPolicy& policy);
  void broadcast(Tensor& t, int root, const WaitPolicy& policy);

 private:
  std::shared_ptr<NcclState> state_;  // shared with pending collectives
};

}  // namespace dml::dist
