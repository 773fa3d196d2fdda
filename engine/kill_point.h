#pragma once
// Test-only crash points, so the crash-and-resume tests can kill a real
// `dml train` at a chosen moment. With the environment variable
//
//   DML_TEST_KILL_AT=<point>[@<n>]
//
// the process raises SIGKILL (no cleanup, no destructors, as a power cut or
// the OOM killer would) the n-th time (default: the first) it reaches the
// named point. Points:
//   step                         after an optimizer step (the trainer)
//   write:<file name>            after a write() to an AtomicFile for a file
//                                of that name, its bytes flushed so the
//                                temporary file holds a partial write
// With DML_TEST_KILL_SIGNAL=<number> as well, it raises that signal instead
// (e.g. 2, SIGINT: what Ctrl-C sends, to test what a run says then).
// Unset (always, outside tests), a point costs one cached branch.
#include <functional>
#include <string_view>

namespace dml {

// `before_kill` runs just before the signal (AtomicFile flushes its bytes).
void kill_point(std::string_view point, const std::function<void()>& before_kill = {});

}  // namespace dml
