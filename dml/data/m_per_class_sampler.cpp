#include "dml/data/m_per_class_sampler.h"

#include <map>

#include "base/error.h"
#include "dml/data/permutation.h"
#include "dml/data/random_streams.h"
#include "engine/rng.h"

namespace dml::data {

MPerClassSampler::MPerClassSampler(const std::vector<int64_t>& labels,
                                   const MPerClassConfig& config, uint64_t seed)
    : config_(config), seed_(seed) {
  const int64_t m = config.m, batch = config.batch_size;
  DML_CHECK(m >= 1, "m-per-class sampler: m = ", m, " must be >= 1");
  DML_CHECK(batch >= m && batch % m == 0, "m-per-class sampler: batch size ", batch,
            " must be a positive multiple of m = ", m, " (P classes x m images)");
  std::map<int64_t, std::vector<int64_t>> by_class;  // ordered: reproducible class order
  for (size_t i = 0; i < labels.size(); ++i) by_class[labels[i]].push_back(int64_t(i));
  int64_t usable = 0;
  for (auto& [label, members] : by_class) {
    const int64_t size = int64_t(members.size());
    if (size < m) {
      DML_CHECK(config.small_classes == SmallClassPolicy::skip, "m-per-class sampler: class ",
                label, " has ", size, " images, fewer than m = ", m,
                "; lower m or let small classes be skipped");
      ++skipped_classes_;
      skipped_samples_ += size;
      continue;
    }
    usable += size;
    classes_.push_back(std::move(members));
  }
  const int64_t classes_per_batch = batch / m;
  DML_CHECK(int64_t(classes_.size()) >= classes_per_batch, "m-per-class sampler: a batch of ",
            batch, " = ", classes_per_batch, " classes x ", m, " needs ", classes_per_batch,
            " classes with >= ", m, " images, but there are ", classes_.size(),
            "; lower the batch size or m");
  batches_per_epoch_ = usable / batch;
  DML_CHECK(batches_per_epoch_ >= 1, "m-per-class sampler: ", usable,
            " usable images make no batch of ", batch);
}

std::vector<std::vector<int64_t>> MPerClassSampler::epoch(int64_t epoch) const {
  Generator gen(stream_seed(seed_, Stream::sampler, {uint64_t(epoch)}));
  const int64_t m = config_.m, classes_per_batch = config_.batch_size / m;
  const int64_t num_classes = int64_t(classes_.size());

  struct Deck {
    std::vector<int64_t> order;
    size_t next = 0;
  };
  std::vector<Deck> decks(classes_.size());
  auto shuffle = [&](size_t c) {
    decks[c].order = random_permutation(int64_t(classes_[c].size()), gen);
    decks[c].next = 0;
  };
  for (size_t c = 0; c < decks.size(); ++c) shuffle(c);

  std::vector<std::vector<int64_t>> batches(static_cast<size_t>(batches_per_epoch_));
  std::vector<int64_t> class_ids(static_cast<size_t>(num_classes));
  for (auto& batch : batches) {
    // P distinct classes: the first P steps of a Fisher-Yates shuffle.
    for (int64_t c = 0; c < num_classes; ++c) class_ids[size_t(c)] = c;
    batch.reserve(size_t(config_.batch_size));
    for (int64_t p = 0; p < classes_per_batch; ++p) {
      int64_t pick = p + random_index(num_classes - p, gen);
      std::swap(class_ids[size_t(p)], class_ids[size_t(pick)]);
      const size_t c = size_t(class_ids[size_t(p)]);
      if (decks[c].order.size() - decks[c].next < size_t(m)) shuffle(c);
      for (int64_t j = 0; j < m; ++j)
        batch.push_back(classes_[c][size_t(decks[c].order[decks[c].next++])]);
    }
  }
  return batches;
}

}  // namespace dml::data
