// The kNN search's streaming top-k selection (kernels/cpu/nearest_selection.h):
// both scan builds against a sorted reference, with ties, an excluded item
// and depths beyond what is offered.
#include "kernels/cpu/nearest_selection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

namespace dml::cpu {
namespace {

TEST(NearestSelection, BothScanBuildsKeepTheExactNearest) {
  // Integer dots and biases: every distance is exact in f32 with or without
  // FMA, and many tie, so both builds must give exactly the (distance, index)
  // order. Blocks of odd lengths, one item excluded (dot -inf), and depths from
  // 1 to more than are offered.
  std::vector<int64_t> lengths = {1000, 37, 64, 15, 1, 1029};
  const int64_t total = std::accumulate(lengths.begin(), lengths.end(), int64_t{0});
  std::vector<float> dot(static_cast<size_t>(total)), bias(static_cast<size_t>(total));
  for (int64_t i = 0; i < total; ++i) {
    dot[size_t(i)] = float((i * 37) % 41 - 20);
    bias[size_t(i)] = float((i * 13) % 29);
  }
  dot[77] = -std::numeric_limits<float>::infinity();
  const float offset = 60.f, scale = -2.f;
  std::vector<std::pair<float, int64_t>> want;
  for (int64_t i = 0; i < total; ++i)
    if (i != 77)
      want.emplace_back(std::max(0.f, offset + (bias[size_t(i)] + scale * dot[size_t(i)])), i);
  std::sort(want.begin(), want.end());

  using Scan =
      void (NearestSelection::*)(const float*, const float*, float, float, int64_t, int64_t);
  std::vector<Scan> builds = {&NearestSelection::scan_portable};
  if (NearestSelection::has_avx512()) builds.push_back(&NearestSelection::scan_avx512);
  for (Scan scan : builds)
    for (int64_t k : {int64_t{1}, int64_t{8}, int64_t{300}, total + 5}) {
      NearestSelection selection;
      selection.reset(k);
      int64_t first = 0;
      for (int64_t len : lengths) {
        (selection.*scan)(dot.data() + first, bias.data() + first, offset, scale, len, first);
        first += len;
      }
      std::vector<int64_t> idx(static_cast<size_t>(k));
      std::vector<float> dist(static_cast<size_t>(k));
      const int64_t count = selection.finish(idx.data(), dist.data());
      ASSERT_EQ(count, std::min(k, total - 1));
      for (int64_t j = 0; j < count; ++j) {
        ASSERT_EQ(idx[size_t(j)], want[size_t(j)].second) << "k " << k << " rank " << j;
        ASSERT_EQ(dist[size_t(j)], want[size_t(j)].first) << "k " << k << " rank " << j;
      }
    }
  if (!NearestSelection::has_avx512()) GTEST_SKIP() << "no AVX-512: only the portable scan ran";
}

}  // namespace
}  // namespace dml::cpu
