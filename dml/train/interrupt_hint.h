#pragma once
// What Ctrl-C (SIGINT) or SIGTERM prints while a run trains: one line on
// stderr saying which checkpoint is kept and how to resume from it, or that
// no checkpoint was written yet; then the process ends by that signal (exit
// status 128 + signal), as it would have without the line.
//
// The handler does only async-signal-safe things: it write(2)s a line
// prepared beforehand and re-raises the signal with its default action.
// While a checkpoint is being written, two lines are ready, the kept one and
// the one of the checkpoint on its way; the handler stat(2)s the checkpoint's
// path to tell whether the new file has replaced the old one yet, so the
// line names the checkpoint that is on disk at that moment.
#include <cstdint>
#include <string>

namespace dml::train {

class InterruptHint {
 public:
  // Installs the handlers, saying that no checkpoint was written yet.
  // `resume_command` is what the line tells the user to run to resume; empty:
  // "dml train --resume <checkpoint>".
  explicit InterruptHint(std::string resume_command = "");
  // Puts the handlers that were there before back.
  ~InterruptHint();
  InterruptHint(const InterruptHint&) = delete;
  InterruptHint& operator=(const InterruptHint&) = delete;

  // A checkpoint of `epoch` epochs is about to be written to `path`.
  void checkpoint_coming(const std::string& path, int64_t epoch);
  // The checkpoint at `path`, of `epoch` epochs, is whole on disk.
  void checkpoint_kept(const std::string& path, int64_t epoch);

 private:
  std::string kept_text(const std::string& path, int64_t epoch) const;

  std::string resume_command_;
};

}  // namespace dml::train
