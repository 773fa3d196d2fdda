#pragma once
// What the plain-main benchmarks report of their own process: resident memory
// from /proc/self/status, its peak reset, and a C API call's status as a
// dml::Error (the benchmarks time the deployment library through dml.h).
#include <fstream>
#include <string>

#include "api/dml.h"
#include "base/error.h"

namespace dml::bench {

// A field of /proc/self/status ("VmRSS", "VmHWM"), in bytes.
inline double status_bytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string key;
  double kib = 0;
  while (status >> key) {
    if (key == field + ":") {
      status >> kib;
      return kib * 1024.0;
    }
    status.ignore(1 << 20, '\n');
  }
  return 0;
}

// Resets the peak RSS (VmHWM) to the current RSS, so a later peak is of what
// ran after this.
inline void reset_peak_rss() {
  std::ofstream("/proc/self/clear_refs") << "5";
}

// A failed C API call as a dml::Error carrying the library's one-line message.
inline void check_status(dml_status status, const char* call) {
  DML_CHECK(status == DML_OK, call, ": ", dml_status_name(status), ": ", dml_last_error());
}

}  // namespace dml::bench
