#include "dml/train/interrupt_hint.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstring>
#include <utility>

namespace dml::train {

namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM};

struct Line {
  char text[4096];
  size_t size;
};

// The handler reads one kept line while the next is prepared in the other.
Line kept[2];
std::atomic<int> current{0};
std::atomic<uint64_t> kept_inode{0};  // the kept checkpoint's file; 0: none
// A checkpoint being written: its line, and its path to look at.
Line coming;
char coming_path[4096];
std::atomic<bool> writing{false};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<uint64_t>::is_always_lock_free &&
                  std::atomic<bool>::is_always_lock_free,
              "read from a signal handler");

struct sigaction previous[std::size(kSignals)];

// The line for the checkpoint on disk now: the coming one once its file has
// replaced the kept one.
const Line& line_now() {
  struct stat file {};
  if (writing.load() && ::stat(coming_path, &file) == 0 &&
      uint64_t(file.st_ino) != kept_inode.load())
    return coming;
  return kept[current.load()];
}

extern "C" void on_interrupt(int signal) {
  const Line& line = line_now();
  [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, line.text, line.size);
  // SA_RESETHAND restored the default action: the signal ends the process.
  ::raise(signal);
}

void fill(Line& line, const std::string& text) {
  // On a terminal the progress line may be half drawn: start on a new one.
  const std::string whole = (isatty(STDOUT_FILENO) ? "\n" : "") + text + "\n";
  line.size = std::min(whole.size(), sizeof line.text);
  std::memcpy(line.text, whole.data(), line.size);
}

}  // namespace

std::string InterruptHint::kept_text(const std::string& path, int64_t epoch) const {
  return "interrupted: " + path + " (epoch " + std::to_string(epoch) + ") is kept; resume with: " +
         (resume_command_.empty() ? "dml train --resume " + path : resume_command_);
}

InterruptHint::InterruptHint(std::string resume_command)
    : resume_command_(std::move(resume_command)) {
  writing.store(false);
  kept_inode.store(0);
  fill(kept[current.load()], "interrupted: no checkpoint was written yet");
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

void InterruptHint::checkpoint_coming(const std::string& path, int64_t epoch) {
  writing.store(false);
  fill(coming, kept_text(path, epoch));
  const size_t n = std::min(path.size(), sizeof coming_path - 1);
  std::memcpy(coming_path, path.data(), n);
  coming_path[n] = '\0';
  writing.store(true);
}

void InterruptHint::checkpoint_kept(const std::string& path, int64_t epoch) {
  const int next = 1 - current.load();
  fill(kept[next], kept_text(path, epoch));
  struct stat file {};
  const uint64_t inode = ::stat(path.c_str(), &file) == 0 ? uint64_t(file.st_ino) : 0;
  // In this order, a signal in between finds the coming line or the new kept one, never the old.
  current.store(next);
  kept_inode.store(inode);
  writing.store(false);
}

}  // namespace dml::train
