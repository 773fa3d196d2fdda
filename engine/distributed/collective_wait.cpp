#include "engine/distributed/collective_wait.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "base/error.h"
#include "engine/distributed/collective_args.h"

namespace dml::dist {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::microseconds;

// Polls back to back, then yielding, for the first 2 ms (a collective
// between ranks that arrive together completes within them: MPI moves a
// non-blocking collective's rounds only inside a poll, so sleeping there
// halved the all-reduce of 1-4 MiB), then sleeps doubling up to 250 us: two
// ranks on two cores must not spin against the one still computing.
constexpr int kEagerPolls = 64;
constexpr auto kSpinFor = std::chrono::milliseconds(2);
constexpr microseconds kFirstSleep{10};
constexpr microseconds kLongestSleep{250};
constexpr auto kPeerCheckEvery = std::chrono::milliseconds(100);

}  // namespace

void wait_for(const std::function<bool()>& done, const CollectiveLabel& what,
              const WaitPolicy& policy) {
  const Clock::time_point start = Clock::now();
  for (int i = 0; i < kEagerPolls || Clock::now() - start < kSpinFor; ++i) {
    if (done()) return;
    if (i >= kEagerPolls) std::this_thread::yield();
  }
  const Clock::time_point deadline = start + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(policy.timeout_s));
  Clock::time_point next_peer_check = start;
  microseconds sleep = kFirstSleep;
  while (!done()) {
    const Clock::time_point now = Clock::now();
    DML_CHECK(now < deadline, what.name, " of ", payload_size(what.bytes), " on rank ", policy.rank,
              " of ", policy.size, " waited ", policy.timeout_s,
              " s: a rank is hung or gone; distributed.timeout_seconds sets the limit");
    if (policy.peers && now >= next_peer_check) {
      next_peer_check = now + kPeerCheckEvery;
      if (const RankProcess* gone = policy.peers->first_gone())
        throw Error(detail::concat("rank ", gone->rank, " (pid ", gone->pid, " on host ",
                                   gone->host, ") is gone during ", what.name, " (on rank ",
                                   policy.rank, " of ", policy.size,
                                   "): it was killed or crashed; see its own output for why"));
    }
    std::this_thread::sleep_for(sleep);
    sleep = std::min(sleep * 2, kLongestSleep);
  }
}

}  // namespace dml::dist
