#include "dml/train/interrupt_hint.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>

namespace dml::train {

namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM};

// Two lines: the handler reads the current one while the next is prepared.
struct Line {
  char text[4096];
  size_t size;
};
Line lines[2];
std::atomic<int> current{0};
static_assert(std::atomic<int>::is_always_lock_free, "read from a signal handler");

struct sigaction previous[std::size(kSignals)];

extern "C" void on_interrupt(int signal) {
  const Line& line = lines[current.load()];
  [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, line.text, line.size);
  // SA_RESETHAND restored the default action: the signal ends the process.
  ::raise(signal);
}

void set_line(const std::string& text) {
  // On a terminal the progress line may be half drawn: start on a new one.
  const std::string whole = (isatty(STDOUT_FILENO) ? "\n" : "") + text + "\n";
  const int next = 1 - current.load();
  lines[next].size = std::min(whole.size(), sizeof lines[next].text);
  std::memcpy(lines[next].text, whole.data(), lines[next].size);
  current.store(next);
}

}  // namespace

InterruptHint::InterruptHint() {
  set_line("interrupted: no checkpoint was written yet");
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  // A signal ignored by whoever started the process (nohup) stays ignored.
  for (size_t i = 0; i < std::size(kSignals); ++i)
    if (sigaction(kSignals[i], nullptr, &previous[i]) == 0 && previous[i].sa_handler != SIG_IGN)
      sigaction(kSignals[i], &action, nullptr);
}

InterruptHint::~InterruptHint() {
  for (size_t i = 0; i < std::size(kSignals); ++i) sigaction(kSignals[i], &previous[i], nullptr);
}

void InterruptHint::checkpoint_kept(const std::string& path, int64_t epoch) {
  set_line("interrupted: " + path + " (epoch " + std::to_string(epoch) +
           ") is kept; resume with: dml train --resume " + path);
}

}  // namespace dml::train
