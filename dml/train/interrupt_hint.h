#pragma once
// What Ctrl-C (SIGINT) or SIGTERM prints while a run trains: one line on
// stderr saying which checkpoint is kept and how to resume from it, or that
// no checkpoint was written yet; then the process ends by that signal (exit
// status 128 + signal), as it would have without the line. The handler only
// write(2)s a line prepared beforehand and re-raises the signal with its
// default action, both async-signal-safe; the line is swapped in atomically,
// so a signal never sees half of one.
#include <cstdint>
#include <string>

namespace dml::train {

class InterruptHint {
 public:
  // Installs the handlers, saying that no checkpoint was written yet.
  InterruptHint();
  // Puts the handlers that were there before back.
  ~InterruptHint();
  InterruptHint(const InterruptHint&) = delete;
  InterruptHint& operator=(const InterruptHint&) = delete;

  // A checkpoint of `epoch` epochs at `path` is whole on disk.
  void checkpoint_kept(const std::string& path, int64_t epoch);
};

}  // namespace dml::train
