#pragma once
// The ranks of a job and the collectives between them. One process is a
// world of one (every collective a copy or a no-op); a job started by
// mpirun or srun is a world of N over MPI (CPU tensors) and, for CUDA
// tensors, NCCL bootstrapped over MPI. Every rank must call the same
// collectives in the same order with matching shapes: a mismatch, a lost
// rank or a wait beyond the timeout is an Error naming the collective and
// the ranks, never a hang.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace dml::dist {

// A collective started without waiting (all_reduce_sum_async); wait() blocks
// until its result is in the tensor it was given, or throws.
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  // Pushes the transport along without blocking (MPI progresses
  // non-blocking collectives only inside MPI calls); true when done.
  virtual bool test() = 0;
  virtual void wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // This rank among the ranks on its machine, and how many there are: one
  // GPU each (cuda:local_rank), the machine's cores shared among them.
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;
  // "single", "mpi" (CPU tensors; CUDA tensors over NCCL when built with it)
  virtual std::string backend() const = 0;

  // Sum over ranks, in place. Same shape, dtype and device on every rank.
  virtual void all_reduce_sum(Tensor& t) = 0;
  virtual std::unique_ptr<PendingCollective> all_reduce_sum_async(Tensor& t) = 0;
  // Every rank's rows [n_r, ...] concatenated in rank order; n_r may differ
  // per rank, the trailing shape and dtype may not. `counts` (if not null)
  // receives every n_r.
  virtual Tensor all_gather_rows(const Tensor& local, std::vector<int64_t>* counts = nullptr) = 0;
  // Root's values into `t` on every rank (same shape and dtype everywhere).
  virtual void broadcast(Tensor& t, int root) = 0;
  virtual void barrier() = 0;
  // One 64-bit value per rank, in rank order (checks that ranks agree on a
  // step, a seed, a count).
  virtual std::vector<int64_t> all_gather_value(int64_t value) = 0;
  // Seconds a collective may wait before it fails.
  virtual void set_timeout(double seconds) = 0;
};

// The process-wide world: size 1 unless this process was started as one
// rank of several (mpirun, srun: OMPI_COMM_WORLD_SIZE, PMI_SIZE,
// SLURM_NTASKS with SLURM_PROCID) and the build has MPI (an Error saying so
// when it has not). Initialised on first use, finalised at exit.
Communicator& world();
// True when the build can run several ranks (MPI found at configure time).
bool built_with_mpi();
// Ends the whole job from this rank after an error it has reported: the
// other ranks are stopped at once rather than left waiting at their next
// collective until the timeout. Exits the process (in one process, plainly
// with `exit_code`).
[[noreturn]] void abort_world(int exit_code);

}  // namespace dml::dist
