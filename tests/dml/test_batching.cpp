// The m-per-class sampler and the threaded batch loader.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "dml/data/batch_loader.h"
#include "dml/data/device_prefetch.h"
#include "dml/data/m_per_class_sampler.h"
#include "dml/data/random_streams.h"
#include "dml/data/shard.h"
#include "engine/ops.h"
#include "tests/support/test_support.h"

namespace dml::data {
namespace {

using test::expect_error;

// 7 classes of sizes 1..7 (class c has c+1 images), labelled 10, 11, ...
std::vector<int64_t> staircase_labels() {
  std::vector<int64_t> labels;
  for (int64_t c = 0; c < 7; ++c)
    for (int64_t i = 0; i <= c; ++i) labels.push_back(10 + c);
  return labels;
}

TEST(MPerClassSampler, BatchesHoldPDistinctClassesWithMDistinctImagesEach) {
  std::vector<int64_t> labels = staircase_labels();
  MPerClassSampler sampler(labels, {.batch_size = 6, .m = 2}, /*seed=*/3);
  EXPECT_EQ(sampler.skipped_classes(), 1);  // the class with one image
  EXPECT_EQ(sampler.skipped_samples(), 1);
  EXPECT_EQ(sampler.batches_per_epoch(), 27 / 6);
  for (int64_t epoch = 0; epoch < 5; ++epoch) {
    auto batches = sampler.epoch(epoch);
    ASSERT_EQ(int64_t(batches.size()), sampler.batches_per_epoch());
    for (const auto& batch : batches) {
      ASSERT_EQ(batch.size(), 6u);
      std::map<int64_t, int> per_class;
      for (int64_t i : batch) ++per_class[labels[size_t(i)]];
      EXPECT_EQ(per_class.size(), 3u);
      for (auto [label, count] : per_class) {
        EXPECT_EQ(count, 2);
        EXPECT_NE(label, 10);
      }
      EXPECT_EQ(std::set<int64_t>(batch.begin(), batch.end()).size(), batch.size());
    }
  }
}

TEST(MPerClassSampler, EpochIsAPureFunctionOfSeedAndEpoch) {
  std::vector<int64_t> labels = staircase_labels();
  MPerClassSampler a(labels, {.batch_size = 4, .m = 2}, 7), b(labels, {.batch_size = 4, .m = 2}, 7);
  EXPECT_EQ(a.epoch(3), b.epoch(3));
  EXPECT_NE(a.epoch(3), a.epoch(4));
  MPerClassSampler c(labels, {.batch_size = 4, .m = 2}, 8);
  EXPECT_NE(a.epoch(3), c.epoch(3));
}

TEST(MPerClassSampler, DealsEveryImageOfAClassBeforeRepeating) {
  // Class 4 has 6 images; its first three batches of an epoch deal all six.
  std::vector<int64_t> labels(6, 4);
  labels.resize(36, 5);
  MPerClassSampler sampler(labels, {.batch_size = 2, .m = 2}, 1);
  std::vector<int64_t> dealt;
  for (const auto& batch : sampler.epoch(0))
    if (labels[size_t(batch[0])] == 4 && dealt.size() < 6)
      dealt.insert(dealt.end(), batch.begin(), batch.end());
  ASSERT_EQ(dealt.size(), 6u);
  EXPECT_EQ(std::set<int64_t>(dealt.begin(), dealt.end()).size(), 6u);
}

TEST(MPerClassSampler, RejectsImpossibleConfigurations) {
  std::vector<int64_t> labels = staircase_labels();
  expect_error([&] { MPerClassSampler(labels, {.batch_size = 5, .m = 2}, 0); },
               {"batch size 5", "multiple of m = 2"});
  expect_error([&] { MPerClassSampler(labels, {.batch_size = 16, .m = 2}, 0); },
               {"needs 8 classes", "there are 6"});
  expect_error(
      [&] {
        MPerClassSampler(labels,
                         {.batch_size = 4, .m = 2, .small_classes = SmallClassPolicy::error}, 0);
      },
      {"class 10 has 1 images", "fewer than m = 2"});
  expect_error([&] { MPerClassSampler(labels, {.batch_size = 4, .m = 0}, 0); }, {"m = 0"});
}

// A SampleSet whose "images" are [1, 1, 2] tensors holding (label, noise):
// the noise shows which random stream a sample drew from.
SampleSet tiny_set(int64_t n) {
  SampleSet set{.name = "tiny", .attribute_names = {"tone"}};
  for (int64_t i = 0; i < n; ++i)
    set.samples.push_back(
        {.path = "img" + std::to_string(i), .label = i % 3, .attributes = {i % 2}});
  return set;
}

Tensor noisy_label_image(const SampleSet&, const Sample& s, Generator& gen) {
  Tensor noise = rand({1}, DType::f32, &gen);
  return concat({full({1}, double(s.label)), noise}, 0).reshape({1, 1, 2});
}

std::vector<std::vector<int64_t>> five_batches() {
  return {{0, 1, 2}, {3, 4}, {5, 6, 7}, {8}, {9, 0}};
}

std::vector<std::vector<float>> drain(BatchLoader& loader) {
  std::vector<std::vector<float>> out;
  while (auto batch = loader.next()) out.push_back(batch->images.to_vector<float>());
  return out;
}

TEST(BatchLoader, DeliversInOrderWithTheSameAugmentationsForAnyWorkerCount) {
  SampleSet set = tiny_set(10);
  BatchLoader serial(set, five_batches(), noisy_label_image, {.workers = 0, .seed = 5});
  std::vector<std::vector<float>> expected = drain(serial);
  ASSERT_EQ(expected.size(), 5u);
  for (int64_t workers : {1, 3}) {
    BatchLoader threaded(set, five_batches(), noisy_label_image,
                         {.workers = workers, .prefetch = 2, .seed = 5});
    EXPECT_EQ(drain(threaded), expected) << workers << " workers";
  }
  BatchLoader other_epoch(set, five_batches(), noisy_label_image,
                          {.workers = 2, .seed = 5, .epoch = 1});
  EXPECT_NE(drain(other_epoch), expected);
}

TEST(BatchLoader, EachImageDrawsFromItsOwnAugmentationStream) {
  SampleSet set = tiny_set(10);
  std::vector<uint64_t> keys;
  auto record = [&](const SampleSet& s, const Sample& sample, Generator& gen) {
    keys.push_back(gen.seed());
    return noisy_label_image(s, sample, gen);
  };
  BatchLoader serial(set, five_batches(), record, {.workers = 0, .seed = 5, .epoch = 3});
  drain(serial);
  // Batches of uneven sizes: the image's position in the epoch alone
  // (batch * size + i) would give two images one key.
  std::vector<uint64_t> expected;
  const auto batches = five_batches();
  for (uint64_t b = 0; b < batches.size(); ++b)
    for (uint64_t i = 0; i < batches[b].size(); ++i)
      expected.push_back(stream_seed(5, Stream::augmentation, {3, b, i}));
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(std::set<uint64_t>(keys.begin(), keys.end()).size(), keys.size());
}

// Every rank's shard of a global batch, loaded with its offset, draws what
// the whole batch draws in one process: the same images, augmented the same.
TEST(BatchLoader, RankShardsOfAGlobalBatchAugmentAsTheWholeBatch) {
  SampleSet set = tiny_set(10);
  const std::vector<std::vector<int64_t>> global = {{0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}};
  BatchLoader whole(set, global, noisy_label_image, {.workers = 0, .seed = 5, .epoch = 2});
  const std::vector<std::vector<float>> expected = drain(whole);
  for (int64_t ranks : {2, 3}) {
    std::vector<std::vector<float>> joined(global.size());
    for (int64_t rank = 0; rank < ranks; ++rank) {
      const Shard rows = shard_of(5, rank, ranks);
      std::vector<std::vector<int64_t>> own;
      for (const auto& batch : global)
        own.emplace_back(batch.begin() + rows.begin, batch.begin() + rows.end);
      BatchLoader part(set, own, noisy_label_image,
                       {.workers = 1, .seed = 5, .epoch = 2, .sample_offset = rows.begin});
      const std::vector<std::vector<float>> got = drain(part);
      for (size_t b = 0; b < got.size(); ++b)
        joined[b].insert(joined[b].end(), got[b].begin(), got[b].end());
    }
    EXPECT_EQ(joined, expected) << ranks << " ranks";
  }
}

TEST(Shard, ContiguousBalancedSharesInRankOrder) {
  EXPECT_EQ(shard_of(5, 0, 2).begin, 0);
  EXPECT_EQ(shard_of(5, 0, 2).end, 3);
  EXPECT_EQ(shard_of(5, 1, 2).begin, 3);
  EXPECT_EQ(shard_of(5, 1, 2).end, 5);
  for (int64_t n : {0, 1, 7, 12})
    for (int64_t ranks : {1, 2, 3, 5}) {
      int64_t next = 0;
      for (int64_t rank = 0; rank < ranks; ++rank) {
        const Shard s = shard_of(n, rank, ranks);
        EXPECT_EQ(s.begin, next);
        EXPECT_LE(s.size(), n / ranks + 1);
        EXPECT_GE(s.size(), n / ranks);
        next = s.end;
      }
      EXPECT_EQ(next, n);
    }
  expect_error([] { shard_of(4, 2, 2); }, {"rank 2 of 2"});
}

TEST(BatchLoader, StacksImagesLabelsAndAttributes) {
  SampleSet set = tiny_set(10);
  BatchLoader loader(set, {{4, 5, 6}}, noisy_label_image, {.workers = 1});
  Batch batch = *loader.next();
  EXPECT_EQ(batch.images.shape(), (Shape{3, 1, 1, 2}));
  EXPECT_EQ(batch.labels.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 0}));
  EXPECT_EQ(batch.attributes.shape(), (Shape{3, 1}));
  EXPECT_EQ(batch.attributes.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 0}));
  EXPECT_EQ(batch.indices, (std::vector<int64_t>{4, 5, 6}));
  EXPECT_FALSE(loader.next().has_value());
}

Tensor fails_on_img3(const SampleSet& set, const Sample& s, Generator& gen) {
  DML_CHECK(s.path != "img3", "image ", s.path, ": truncated JPEG");
  return noisy_label_image(set, s, gen);
}

TEST(DevicePrefetch, GivesTheLoadersBatchesInOrderWhetherPrefetchedOrNot) {
  SampleSet set = tiny_set(10);
  BatchLoader plain(set, five_batches(), noisy_label_image, {.workers = 2, .seed = 5});
  std::vector<std::vector<float>> expected = drain(plain);
  // Prefetch after some batches, twice in a row once, never after others.
  BatchLoader loader(set, five_batches(), noisy_label_image, {.workers = 2, .seed = 5});
  DevicePrefetch batches(loader, Device::cpu());
  std::vector<std::vector<float>> got;
  std::vector<std::vector<int64_t>> indices;
  int64_t step = 0;
  while (auto batch = batches.next()) {
    got.push_back(batch->images.to_vector<float>());
    indices.push_back(batch->indices);
    if (step % 2 == 0) batches.prefetch();
    if (step == 2) batches.prefetch();
    ++step;
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(indices, five_batches());
  batches.prefetch();  // past the end: still nothing
  EXPECT_FALSE(batches.next().has_value());
}

TEST(DevicePrefetch, RethrowsTheLoadersErrorFromPrefetch) {
  SampleSet set = tiny_set(10);
  BatchLoader loader(set, five_batches(), fails_on_img3, {.workers = 0});
  DevicePrefetch batches(loader, Device::cpu());
  ASSERT_TRUE(batches.next().has_value());
  expect_error([&] { batches.prefetch(); }, {"image img3: truncated JPEG"});
}

TEST(BatchLoader, BadImageEndsTheEpochWithItsNameOrIsSkippedAndCounted) {
  SampleSet set = tiny_set(10);
  for (int64_t workers : {0, 2}) {
    BatchLoader strict(set, five_batches(), fails_on_img3, {.workers = workers});
    ASSERT_TRUE(strict.next().has_value());
    expect_error([&] { strict.next(); }, {"image img3: truncated JPEG"});

    BatchLoader lenient(set, five_batches(), fails_on_img3,
                        {.workers = workers, .bad_samples = BadSamplePolicy::skip});
    lenient.next();
    Batch second = *lenient.next();
    EXPECT_EQ(second.indices, (std::vector<int64_t>{4}));
    while (lenient.next()) {
    }
    EXPECT_EQ(lenient.skipped(), 1);
  }
}

TEST(BatchLoader, StopsCleanlyMidEpochAndRejectsBadIndices) {
  SampleSet set = tiny_set(10);
  {
    BatchLoader loader(set, five_batches(), noisy_label_image, {.workers = 3, .prefetch = 1});
    loader.next();
  }  // destroyed with batches in flight: workers must stop and join
  expect_error(
      [&] {
        BatchLoader(set, {{0, 10}}, noisy_label_image, {});
      },
      {"sample index 10", "tiny", "10 samples"});
}

}  // namespace
}  // namespace dml::data
