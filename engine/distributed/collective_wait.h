#pragma once
// How a rank waits for a collective: it polls the transport (MPI makes
// progress only inside its calls; a CUDA event is queried), sleeping a
// little longer each time so ranks sharing cores leave them to the ones
// still computing, and gives up with an Error when the timeout passes or a
// rank on this machine has died.
#include <cstddef>
#include <functional>

#include "engine/distributed/peer_watch.h"

namespace dml::dist {

struct CollectiveLabel {
  const char* name;  // "all_reduce_sum"
  size_t bytes;      // this rank's payload
};

struct WaitPolicy {
  int rank = 0;
  int size = 1;
  double timeout_s = 600;
  const PeerWatch* peers = nullptr;  // null: no one to watch
};

// Returns once `done()` is true. Throws, naming the collective, its size,
// this rank and the world: after policy.timeout_s seconds, or at once (the
// watch is read every 100 ms) when a watched rank is gone.
void wait_for(const std::function<bool()>& done, const CollectiveLabel& what,
              const WaitPolicy& policy);

}  // namespace dml::dist
