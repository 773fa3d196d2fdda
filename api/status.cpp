// The per-thread last error and the names of statuses.
#include <string>

#include "api/status.h"

namespace {

thread_local std::string last_error;
// What dml_last_error() points at: last_error, or a constant when even
// recording the message failed (no memory left for it).
thread_local const char* last_error_text = "";

}  // namespace

namespace dml::api {

dml_status fail(const char* function, dml_status status, const char* message) noexcept {
  try {
    last_error.assign(function).append(": ").append(message);
    last_error_text = last_error.c_str();
  } catch (...) {
    last_error_text = "out of memory while recording an error message";
  }
  return status;
}

}  // namespace dml::api

extern "C" {

const char* dml_last_error(void) {
  return last_error_text;
}

const char* dml_status_name(dml_status status) {
  switch (status) {
    case DML_OK:
      return "DML_OK";
    case DML_ERROR_INVALID_ARGUMENT:
      return "DML_ERROR_INVALID_ARGUMENT";
    case DML_ERROR_IO:
      return "DML_ERROR_IO";
    case DML_ERROR_FORMAT:
      return "DML_ERROR_FORMAT";
    case DML_ERROR_SHAPE:
      return "DML_ERROR_SHAPE";
    case DML_ERROR_OUT_OF_MEMORY:
      return "DML_ERROR_OUT_OF_MEMORY";
    case DML_ERROR_INTERNAL:
      return "DML_ERROR_INTERNAL";
  }
  return "DML_STATUS_UNKNOWN";
}

}  // extern "C"
