// Named random streams: no two consumers of a run draw the same sequence.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "dml/data/permutation.h"
#include "dml/data/random_streams.h"
#include "dml/data/sample.h"
#include "tests/support/test_support.h"

namespace dml::data {
namespace {

using test::expect_error;

struct Key {
  uint64_t key;
  Stream stream;
  std::array<uint32_t, 3> indices;  // as many as the stream takes
};

std::string describe(const Key& k) {
  std::string out = stream_name(k.stream);
  for (uint32_t i : k.indices) out.append(" ").append(std::to_string(i));
  return out;
}

// Every key a consumer takes in a run larger than the tests' and demos':
// 100 epochs of 120 batches of 112 images, ten classes of 6000 images in
// each tone benchmark split. The switch names every stream (-Wswitch), so a
// new stream must say here which keys it takes.
void add_keys(uint64_t seed, Stream stream, std::vector<Key>& out) {
  constexpr uint64_t kEpochs = 100, kBatches = 120, kBatchSize = 112;
  constexpr uint64_t kClasses = 10, kClassSize = 6000;
  auto add = [&](std::initializer_list<uint64_t> indices) {
    Key k{stream_seed(seed, stream, indices), stream, {}};
    std::copy(indices.begin(), indices.end(), k.indices.begin());
    out.push_back(k);
  };
  const auto splits = {uint64_t(Split::train), uint64_t(Split::test)};
  switch (stream) {
    case Stream::model:
    case Stream::loss_init:
    case Stream::parade_loss_init:
    case Stream::clustering:
    case Stream::audit_alignment:
    case Stream::audit_leakage:
    case Stream::audit_downstream:
    case Stream::audit_map:
    case Stream::audit_bootstrap:
      return add({});
    case Stream::sampler:
    case Stream::miner:
      for (uint64_t e = 0; e < kEpochs; ++e) add({e});
      return;
    case Stream::augmentation:
      for (uint64_t e = 0; e < kEpochs; ++e)
        for (uint64_t b = 0; b < kBatches; ++b)
          for (uint64_t i = 0; i < kBatchSize; ++i) add({e, b, i});
      return;
    case Stream::tone_choice:
    case Stream::pattern_choice:
      for (uint64_t split : splits)
        for (uint64_t c = 0; c < kClasses; ++c) add({split, c});
      return;
    case Stream::tone_noise:
    case Stream::pattern_noise:
      for (uint64_t split : splits)
        for (uint64_t c = 0; c < kClasses; ++c)
          for (uint64_t k = 0; k < kClassSize; ++k) add({split, c, k});
      return;
  }
}

TEST(RandomStreams, NoTwoConsumersShareAKey) {
  for (uint64_t seed : {uint64_t(0), uint64_t(1), uint64_t(0xFFFFFFFFFFFFFFFF)}) {
    std::vector<Key> keys;
    for (int s = 0; s < kStreamCount; ++s) add_keys(seed, Stream(s), keys);
    ASSERT_GT(keys.size(), size_t(1'300'000));
    std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) { return a.key < b.key; });
    const auto same = std::adjacent_find(keys.begin(), keys.end(),
                                         [](const Key& a, const Key& b) { return a.key == b.key; });
    EXPECT_EQ(same, keys.end()) << "seed " << seed << ": " << describe(*same) << " and "
                                << describe(*(same + 1)) << " share a key";
  }
}

// Equal keys draw equal sequences (a permutation of 1000: 1000 draws), so
// the keys' difference is the draws' difference.
std::vector<int64_t> draws(uint64_t key) {
  Generator gen(key);
  return random_permutation(1000, gen);
}

TEST(RandomStreams, TheOldCollisionsAreGone) {
  constexpr uint64_t seed = 0;
  for (uint64_t epoch : {0, 1, 7}) {
    // The sampler's epoch and the first image's transform of that epoch.
    EXPECT_NE(draws(stream_seed(seed, Stream::sampler, {epoch})),
              draws(stream_seed(seed, Stream::augmentation, {epoch, 0, 0})));
    // The miner's and the third image's.
    EXPECT_NE(draws(stream_seed(seed, Stream::miner, {epoch})),
              draws(stream_seed(seed, Stream::augmentation, {epoch, 0, 2})));
    // The sampler's and the miner's: one epoch index, two streams.
    EXPECT_NE(stream_seed(seed, Stream::sampler, {epoch}),
              stream_seed(seed, Stream::miner, {epoch}));
  }
  // The loss's proxies and the fourth image's transform of epoch 0.
  EXPECT_NE(draws(stream_seed(seed, Stream::loss_init)),
            draws(stream_seed(seed, Stream::augmentation, {0, 0, 3})));
  // Batch 1's first image and batch 0's image at the same position of the epoch.
  EXPECT_NE(stream_seed(seed, Stream::augmentation, {0, 1, 0}),
            stream_seed(seed, Stream::augmentation, {0, 0, 112}));
}

TEST(RandomStreams, SeedsGiveTheirOwnKeys) {
  EXPECT_EQ(stream_seed(3, Stream::sampler, {5}), stream_seed(3, Stream::sampler, {5}));
  EXPECT_NE(stream_seed(3, Stream::sampler, {5}), stream_seed(4, Stream::sampler, {5}));
  EXPECT_NE(stream_seed(3, Stream::model), stream_seed(4, Stream::model));
}

TEST(RandomStreams, IndicesMustFitTheirFields) {
  // The largest index of each field is a key of its own.
  EXPECT_NE(stream_seed(0, Stream::augmentation, {(1 << 20) - 1, (1 << 20) - 1, (1 << 16) - 1}),
            stream_seed(0, Stream::augmentation, {(1 << 20) - 1, (1 << 20) - 1, (1 << 16) - 2}));
  expect_error(
      [] {
        stream_seed(0, Stream::augmentation, {1 << 20, 0, 0});
      },
      {"random stream augmentation", "index 0 = 1048576", "20 bits"});
  expect_error(
      [] {
        stream_seed(0, Stream::augmentation, {0, 0, 1 << 16});
      },
      {"index 2 = 65536", "16 bits"});
  expect_error([] { stream_seed(0, Stream::sampler, {uint64_t(-1)}); }, {"32 bits"});
  expect_error([] { stream_seed(0, Stream::sampler); }, {"sampler: expects 1 index, got 0"});
  expect_error([] { stream_seed(0, Stream::model, {0}); }, {"model: expects 0 indices, got 1"});
}

}  // namespace
}  // namespace dml::data
