#include "dml/data/batch_loader.h"

#include <omp.h>

#include "base/error.h"
#include "dml/data/random_streams.h"
#include "engine/ops.h"

namespace dml::data {

BatchLoader::BatchLoader(const SampleSet& set, std::vector<std::vector<int64_t>> batches,
                         SampleLoader load_sample, const LoaderConfig& config)
    : set_(set),
      batches_(std::move(batches)),
      load_sample_(std::move(load_sample)),
      config_(config) {
  DML_CHECK(config.workers >= 0, "loader: workers = ", config.workers, " must be >= 0");
  DML_CHECK(config.prefetch >= 1, "loader: prefetch = ", config.prefetch, " must be >= 1");
  DML_CHECK(config.sample_offset >= 0, "loader: sample_offset = ", config.sample_offset,
            " must be >= 0");
  for (const auto& batch : batches_)
    for (int64_t i : batch)
      DML_CHECK(i >= 0 && i < int64_t(set.samples.size()), "loader: sample index ", i,
                " is outside ", set.name, " (", set.samples.size(), " samples)");
  for (int64_t w = 0; w < config.workers; ++w) workers_.emplace_back([this] { work(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  room_.notify_all();
  for (std::thread& t : workers_) t.join();
}

int64_t BatchLoader::skipped() const {
  std::lock_guard lock(mutex_);
  return skipped_;
}

Batch BatchLoader::build(int64_t b) {
  const std::vector<int64_t>& indices = batches_[size_t(b)];
  const int64_t num_attributes = int64_t(set_.attribute_names.size());
  Batch out;
  std::vector<Tensor> images;
  std::vector<int64_t> labels, attributes;
  int64_t skipped = 0;
  for (size_t i = 0; i < indices.size(); ++i) {
    const Sample& s = set_.samples[size_t(indices[i])];
    Generator gen(stream_seed(
        config_.seed, Stream::augmentation,
        {uint64_t(config_.epoch), uint64_t(b), uint64_t(config_.sample_offset) + uint64_t(i)}));
    try {
      images.push_back(load_sample_(set_, s, gen));
    } catch (const Error&) {
      if (config_.bad_samples == BadSamplePolicy::error) throw;
      ++skipped;
      continue;
    }
    DML_CHECK(int64_t(s.attributes.size()) == num_attributes, "loader: sample ", indices[i], " of ",
              set_.name, " has ", s.attributes.size(), " attribute values, expected ",
              num_attributes);
    out.indices.push_back(indices[i]);
    labels.push_back(s.label);
    attributes.insert(attributes.end(), s.attributes.begin(), s.attributes.end());
  }
  DML_CHECK(!images.empty(), "loader: every sample of batch ", b, " of ", set_.name,
            " failed to load");
  const int64_t n = int64_t(images.size());
  out.images = stack(images, 0);
  out.labels = from_vector(std::move(labels), {n});
  out.attributes = from_vector(std::move(attributes), {n, num_attributes});
  if (skipped > 0) {
    std::lock_guard lock(mutex_);
    skipped_ += skipped;
  }
  return out;
}

void BatchLoader::work() {
  // Workers run beside the training step's OpenMP kernels: each decodes on
  // one thread rather than opening a parallel team of its own per batch.
  omp_set_num_threads(1);
  for (;;) {
    int64_t b;
    {
      std::unique_lock lock(mutex_);
      room_.wait(lock, [&] {
        return stopping_ || claimed_ >= size() || claimed_ < consumed_ + config_.prefetch;
      });
      if (stopping_ || claimed_ >= size()) return;
      b = claimed_++;
    }
    std::optional<Batch> batch;
    std::exception_ptr error;
    try {
      batch = build(b);
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard lock(mutex_);
      if (error)
        failed_[b] = error;
      else
        done_[b] = std::move(*batch);
    }
    ready_.notify_all();
  }
}

std::optional<Batch> BatchLoader::next() {
  std::unique_lock lock(mutex_);
  if (consumed_ >= size()) return std::nullopt;
  const int64_t b = consumed_;
  if (workers_.empty()) {
    ++consumed_;
    lock.unlock();
    return build(b);
  }
  ready_.wait(lock, [&] { return done_.count(b) || failed_.count(b); });
  if (auto f = failed_.find(b); f != failed_.end()) std::rethrow_exception(f->second);
  Batch batch = std::move(done_[b]);
  done_.erase(b);
  ++consumed_;
  lock.unlock();
  room_.notify_all();
  return batch;
}

}  // namespace dml::data
