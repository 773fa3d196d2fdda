#pragma once
// What the plain benchmark programs (knn_bench, index_bench, peak_bench,
// conv_onednn_bench, ...) share to time a call and print the times: repeated
// timings after a warm-up call, their median, and a JSON list of them.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace dml::bench {

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// What a timing reads: the wall clock, or the process's CPU clock (the time
// its threads ran, not the time they waited for a core another process held:
// on one thread, a call's own time on a shared machine).
enum class Clock { wall, process_cpu };

inline double clock_seconds(Clock clock) {
  if (clock == Clock::wall)
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// A call on one thread is timed by the process's CPU clock (robust on a
// shared machine), on several by the wall clock (the CPU clock adds the
// threads up, and counts their waits at barriers).
inline Clock clock_for_threads(int threads) {
  return threads == 1 ? Clock::process_cpu : Clock::wall;
}

// Seconds per call of f, reps times, after one untimed call.
inline std::vector<double> time_reps(int reps, const std::function<void()>& f,
                                     Clock clock = Clock::wall) {
  f();
  std::vector<double> out;
  for (int r = 0; r < reps; ++r) {
    const double t0 = clock_seconds(clock);
    f();
    out.push_back(clock_seconds(clock) - t0);
  }
  return out;
}

// The median seconds of time_reps.
inline double median_seconds(int reps, const std::function<void()>& f, Clock clock = Clock::wall) {
  return median(time_reps(reps, f, clock));
}

inline std::string json_list(const std::vector<double>& v) {
  std::string s = "[";
  for (double x : v) s += (s.size() > 1 ? "," : "") + std::to_string(x);
  return s + "]";
}

}  // namespace dml::bench
