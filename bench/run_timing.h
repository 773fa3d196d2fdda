#pragma once
// What the end-to-end benchmark programs (knn_bench, index_bench) share to
// time a call and print the times: repeated timings after a warm-up call,
// their median, and a JSON list of them.
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

// Seconds per call of f, reps times, after one untimed call.
inline std::vector<double> time_reps(int reps, const std::function<void()>& f) {
  f();
  std::vector<double> out;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    out.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return out;
}

inline std::string json_list(const std::vector<double>& v) {
  std::string s = "[";
  for (double x : v) s += (s.size() > 1 ? "," : "") + std::to_string(x);
  return s + "]";
}

}  // namespace dml::bench
