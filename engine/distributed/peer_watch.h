#pragma once
// The other ranks on this machine, watched while a collective waits: a rank
// that was killed (or crashed) is named at once instead of after the
// timeout. Ranks on other machines are left to the timeout.
#include <string>
#include <vector>

namespace dml::dist {

// One rank's process, as it tells the others at start-up.
struct RankProcess {
  int rank = 0;
  long pid = 0;
  std::string host;
};

class PeerWatch {
 public:
  PeerWatch() = default;
  // Watches every process in `ranks` on `this_host` but `self_rank`.
  PeerWatch(const std::vector<RankProcess>& ranks, int self_rank, const std::string& this_host);

  // The first watched process that has ended (gone, a zombie, or its pid
  // now another process's), or null.
  const RankProcess* first_gone() const;
  size_t watched() const { return peers_.size(); }

 private:
  struct Peer {
    RankProcess process;
    unsigned long long start_time;  // /proc/PID/stat's, to tell a reused pid
  };
  std::vector<Peer> peers_;
};

// This machine's name (gethostname).
std::string host_name();

}  // namespace dml::dist
