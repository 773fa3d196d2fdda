#pragma once
// How every entry point of dml.h fails: its body runs inside guarded(),
// which turns whatever it throws into a dml_status and the calling thread's
// last-error message, so nothing crosses the C boundary. Errors whose kind is
// known where they arise are StatusError; a plain dml::Error that reaches
// guarded() was not classified, which is a bug (DML_ERROR_INTERNAL).
#include <exception>
#include <new>
#include <string>
#include <utility>

#include "api/dml.h"
#include "base/error.h"

namespace dml::api {

class StatusError : public Error {
 public:
  StatusError(dml_status status, const std::string& message) : Error(message), status_(status) {}
  dml_status status() const { return status_; }

 private:
  dml_status status_;
};

// Records "<function>: <message>" as the calling thread's last error and
// returns `status`.
dml_status fail(const char* function, dml_status status, const char* message) noexcept;

template <class Body>
dml_status guarded(const char* function, Body&& body) noexcept {
  try {
    std::forward<Body>(body)();
    return DML_OK;
  } catch (const StatusError& e) {
    return fail(function, e.status(), e.what());
  } catch (const std::bad_alloc&) {
    return fail(function, DML_ERROR_OUT_OF_MEMORY,
                "out of memory; pass fewer images or rows per call, or free memory");
  } catch (const std::exception& e) {
    return fail(function, DML_ERROR_INTERNAL, e.what());
  } catch (...) {
    return fail(function, DML_ERROR_INTERNAL, "an exception of unknown type");
  }
}

// Runs `body`, reporting a dml::Error it throws (a malformed file the engine
// read, a failed write) as `status`, its message prefixed by `context`.
template <class Body>
decltype(auto) with_status(dml_status status, const std::string& context, Body&& body) {
  try {
    return std::forward<Body>(body)();
  } catch (const StatusError&) {
    throw;
  } catch (const Error& e) {
    throw StatusError(status, context + e.what());
  }
}

}  // namespace dml::api

// DML_API_CHECK(cond, status, "what", ...) throws StatusError with the message.
#define DML_API_CHECK(cond, status, ...)                                                    \
  do {                                                                                      \
    if (!(cond)) throw ::dml::api::StatusError(status, ::dml::detail::concat(__VA_ARGS__)); \
  } while (0)
