#pragma once
// The loader: worker threads turn lists of sample indices into batch tensors
// (decode, augment, stack) ahead of the training step, a bounded number of
// batches ahead, and hand them over in order. With decoding that keeps up,
// the step never waits on data.
//
// Randomness: sample i of batch b in epoch e draws from its own Generator,
// the augmentation stream's (e, b, i) (random_streams.h), so a run's
// augmentations do not depend on the number of workers or on which worker
// ran first. On several ranks each loads its shard of every global batch,
// and i is the sample's position in the global batch (sample_offset + its
// position in the shard), so a sample is augmented the same on any number
// of ranks.
//
// Bad images: load_sample throws for a missing, truncated or undecodable
// image. With BadSamplePolicy::error that error ends the epoch (it reaches
// the caller of next(), naming the file); with skip the sample is left out of
// its batch and counted in skipped(), for the caller to report.
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "dml/data/sample.h"
#include "engine/rng.h"
#include "engine/tensor.h"

namespace dml::data {

enum class BadSamplePolicy { error, skip };

struct Batch {
  std::vector<int64_t> indices;  // into the SampleSet, in batch order
  Tensor images;                 // f32 [B, C, H, W]
  Tensor labels;                 // i64 [B]
  Tensor attributes;             // i64 [B, A] (A = number of attribute names; may be 0)
};

// One sample of a set to its image tensor [C, H, W]; throws dml::Error on
// bad input.
using SampleLoader = std::function<Tensor(const SampleSet&, const Sample&, Generator&)>;

struct LoaderConfig {
  int64_t workers = 2;   // 0: load on the caller's thread, on demand
  int64_t prefetch = 4;  // batches ready ahead of the consumer
  uint64_t seed = 0;
  int64_t epoch = 0;
  // Where each batch's first sample sits in its global batch (a rank's shard
  // of it; 0 in one process).
  int64_t sample_offset = 0;
  BadSamplePolicy bad_samples = BadSamplePolicy::error;
};

class BatchLoader {
 public:
  BatchLoader(const SampleSet& set, std::vector<std::vector<int64_t>> batches,
              SampleLoader load_sample, const LoaderConfig& config);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // The next batch in order, or nullopt after the last. Rethrows a worker's
  // error on the consumer's thread.
  std::optional<Batch> next();
  int64_t size() const { return int64_t(batches_.size()); }
  int64_t skipped() const;

 private:
  Batch build(int64_t b);
  void work();

  const SampleSet& set_;
  std::vector<std::vector<int64_t>> batches_;
  SampleLoader load_sample_;
  LoaderConfig config_;

  mutable std::mutex mutex_;
  std::condition_variable ready_, room_;
  std::map<int64_t, Batch> done_;
  std::map<int64_t, std::exception_ptr> failed_;
  int64_t claimed_ = 0, consumed_ = 0, skipped_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace dml::data
