// A two-rank job that loses rank 1, for job_end_test.sh.
//   killed:  rank 1 dies by SIGKILL while rank 0 waits in an all-reduce;
//            rank 0 names it (the watch on local ranks) and says how soon.
//   aborted: rank 1 calls abort_world after an error of its own while rank
//            0 sleeps outside any collective: only the job's abort can stop
//            rank 0 before its 20 s are up.
// Usage (under mpirun -n 2): job_end_program killed|aborted
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "engine/distributed/communicator.h"

int main(int argc, char** argv) {
  using namespace dml;
  const bool killed = argc > 1 && std::strcmp(argv[1], "killed") == 0;
  dist::Communicator& w = dist::world();
  w.set_timeout(60);  // beyond what the wrapper allows: the timeout cannot end the wait
  w.barrier();
  if (w.rank() == 1) {
    if (killed) raise(SIGKILL);
    std::fprintf(stderr, "rank 1: failing on purpose\n");
    dist::abort_world(3);
  }
  if (!killed) {
    std::this_thread::sleep_for(std::chrono::seconds(20));
    std::fprintf(stderr, "rank 0: still running after rank 1's abort\n");
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  try {
    Tensor t = ones({1000});
    w.all_reduce_sum(t);
    std::fprintf(stderr, "rank 0: the all-reduce completed without rank 1\n");
    return 1;
  } catch (const Error& e) {
    const double waited =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "rank 0: %s\nrank 0: after %.2f s\n", e.what(), waited);
    dist::abort_world(2);
  }
}
