#pragma once
// The class-balanced batch sampler of the DML protocol: every batch holds P
// distinct classes with m images each (the standard 112 = 56 classes x 2), so
// each anchor has positives in its batch. Classes are drawn uniformly for
// each batch, as the standard protocol does (so a class's share of batches
// does not grow with its size); each class deals its images from its own
// shuffled deck, reshuffled when fewer than m remain, so no image repeats
// inside a batch and a class's images come round evenly.
//
// Classes with fewer than m images cannot give m distinct images; by default
// they are left out (counted in skipped_classes() for the caller to report),
// or, with `small_classes = error`, construction fails naming the class.
#include <cstdint>
#include <vector>

namespace dml::data {

enum class SmallClassPolicy { skip, error };

struct MPerClassConfig {
  int64_t batch_size = 112;
  int64_t m = 2;  // images per class in a batch; batch_size must be a multiple
  SmallClassPolicy small_classes = SmallClassPolicy::skip;
};

class MPerClassSampler {
 public:
  // labels: the class of each sample (any integers).
  MPerClassSampler(const std::vector<int64_t>& labels, const MPerClassConfig& config,
                   uint64_t seed);

  // The batches of one epoch, as sample indices: a pure function of (seed,
  // epoch), so a resumed run draws the same batches. batches_per_epoch() of
  // them: the usable images divided by the batch size.
  std::vector<std::vector<int64_t>> epoch(int64_t epoch) const;
  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  int64_t skipped_classes() const { return skipped_classes_; }
  int64_t skipped_samples() const { return skipped_samples_; }

 private:
  MPerClassConfig config_;
  uint64_t seed_;
  std::vector<std::vector<int64_t>> classes_;  // sample indices of each usable class
  int64_t batches_per_epoch_ = 0, skipped_classes_ = 0, skipped_samples_ = 0;
};

}  // namespace dml::data
