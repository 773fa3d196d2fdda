#pragma once
// Streaming selection of one query's k nearest database items, fed one block
// of precomputed dot products at a time: the inner loop of the engine's kNN
// search on the CPU (engine/knn.h).
//
// Candidates are kept as 64-bit keys: the distance's f32 bits (distances are
// >= 0, whose bits order like the values) above the database index, so one
// integer comparison orders by distance and breaks ties by lower index. The
// buffer holds up to 2k + 64 keys; when full, the k smallest are kept
// (nth_element) and the k-th becomes the threshold that later candidates must
// beat. Items arrive in increasing index order, so a later item equal to the
// threshold always ranks after the k-th and can be rejected: the test is a
// strict d < threshold, which the scan does 16 lanes at a time (AVX-512, with
// the candidates of a vector appended at once) or 64 at a time (portable).
// finish() sorts: std::sort for short lists, a radix sort for long ones.
#include <cstdint>
#include <limits>
#include <vector>

namespace dml::cpu {

class NearestSelection {
 public:
  // Starts a new query that keeps its k nearest (k may be 0), accepting only
  // items strictly nearer than `threshold`: a caller that starts below +inf
  // must check that finish() still found k.
  void reset(int64_t k, float threshold = std::numeric_limits<float>::infinity());

  // Offers database items first_index .. first_index + n - 1, whose distances
  // are max(0, offset + bias[j] + scale * dot[j]) with scale < 0; an item
  // whose dot is -inf gets distance +inf and is never kept (how the search
  // excludes a query's own row). Items must be offered in increasing index
  // order, indices below 2^32.
  void scan(const float* dot, const float* bias, float offset, float scale, int64_t n,
            int64_t first_index);

  // Writes the kept items, nearest first, and returns how many there are
  // (min(k, items offered)).
  int64_t finish(int64_t* indices, float* distances);

  // The two builds scan() chooses between (AVX-512 when isa.h's active path
  // is avx512), public so that tests run both; call scan_avx512 only when
  // has_avx512() says so.
  static bool has_avx512();
  void scan_avx512(const float* dot, const float* bias, float offset, float scale, int64_t n,
                   int64_t first_index);
  void scan_portable(const float* dot, const float* bias, float offset, float scale, int64_t n,
                     int64_t first_index);

 private:
  void push(float distance, int64_t index);
  void compact();

  std::vector<uint64_t> keys_;
  int64_t k_ = 0, count_ = 0;
  float threshold_ = 0;
};

}  // namespace dml::cpu
