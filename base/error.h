#pragma once
// One exception type for every engine error. Messages say what went wrong and
// where (op name, shapes, file) so a tool can print them as one line.
#include <sstream>
#include <stdexcept>
#include <string>

namespace dml {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
template <class... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace dml

// DML_CHECK(cond, "op: ", shape, " must ...") throws dml::Error with the message.
#define DML_CHECK(cond, ...)                                             \
  do {                                                                   \
    if (!(cond)) throw ::dml::Error(::dml::detail::concat(__VA_ARGS__)); \
  } while (0)
