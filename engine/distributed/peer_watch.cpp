#include "engine/distributed/peer_watch.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>

namespace dml::dist {

namespace {

struct ProcessState {
  char state;
  unsigned long long start_time;
};

// /proc/PID/stat's state (field 3) and start time (field 22), or nothing
// when the process does not exist. The command name (field 2) may hold
// spaces and parentheses, so fields are counted from its last ')'.
std::optional<ProcessState> read_process_state(long pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE* file = std::fopen(path, "r");
  if (!file) return std::nullopt;
  char text[1024];
  const size_t n = std::fread(text, 1, sizeof text - 1, file);
  std::fclose(file);
  text[n] = '\0';
  const char* after_name = std::strrchr(text, ')');
  if (!after_name) return std::nullopt;
  ProcessState s{};
  // After ") ": state, then fields 4..21 skipped, then field 22.
  if (std::sscanf(after_name + 1,
                  " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
                  "%*s %*s %*s %*s %llu",
                  &s.state, &s.start_time) != 2)
    return std::nullopt;
  return s;
}

}  // namespace

PeerWatch::PeerWatch(const std::vector<RankProcess>& ranks, int self_rank,
                     const std::string& this_host) {
  for (const RankProcess& p : ranks) {
    if (p.rank == self_rank || p.host != this_host) continue;
    // A process this one cannot read (another user's, a hidden /proc) is
    // left to the timeout.
    if (auto s = read_process_state(p.pid)) peers_.push_back({p, s->start_time});
  }
}

const RankProcess* PeerWatch::first_gone() const {
  for (const Peer& peer : peers_) {
    auto s = read_process_state(peer.process.pid);
    const bool ended = !s || s->state == 'Z' || s->state == 'X' || s->start_time != peer.start_time;
    if (ended) return &peer.process;
  }
  return nullptr;
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "?";
  return name;
}

}  // namespace dml::dist
