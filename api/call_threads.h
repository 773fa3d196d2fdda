#pragma once
// The thread count of one call (dml_model_options.num_threads): set on the
// calling thread only (OpenMP's nthreads is per thread) for the call's
// duration, then restored, so the caller's other OpenMP work is unaffected.
#include <omp.h>

namespace dml::api {

class CallThreads {
 public:
  // 0 keeps the calling thread's current setting.
  explicit CallThreads(int num_threads) : before_(omp_get_max_threads()) {
    if (num_threads > 0) omp_set_num_threads(num_threads);
  }
  ~CallThreads() { omp_set_num_threads(before_); }
  CallThreads(const CallThreads&) = delete;
  CallThreads& operator=(const CallThreads&) = delete;

 private:
  int before_;
};

}  // namespace dml::api
