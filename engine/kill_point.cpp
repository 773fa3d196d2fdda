#include "engine/kill_point.h"

#include <csignal>
#include <cstdlib>
#include <mutex>
#include <string>

namespace dml {

namespace {

struct KillAt {
  std::string point;
  long hit = 0;  // the hit that kills; 0: never
  int signal = SIGKILL;
};

int kill_signal() {
  const char* value = std::getenv("DML_TEST_KILL_SIGNAL");
  return value && *value ? int(std::strtol(value, nullptr, 10)) : SIGKILL;
}

KillAt parse_kill_at() {
  const char* value = std::getenv("DML_TEST_KILL_AT");
  if (!value || !*value) return {};
  std::string text = value;
  const size_t at = text.rfind('@');
  if (at == std::string::npos) return {text, 1, kill_signal()};
  return {text.substr(0, at), std::strtol(text.c_str() + at + 1, nullptr, 10), kill_signal()};
}

}  // namespace

void kill_point(std::string_view point, const std::function<void()>& before_kill) {
  static const KillAt kill_at = parse_kill_at();
  if (kill_at.hit <= 0 || point != kill_at.point) return;
  static std::mutex mutex;
  static long hits = 0;
  std::lock_guard lock(mutex);
  if (++hits != kill_at.hit) return;
  if (before_kill) before_kill();
  std::raise(kill_at.signal);
}

}  // namespace dml
