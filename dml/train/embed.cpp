#include "dml/train/embed.h"

#include <algorithm>

#include "dml/train/progress.h"
#include "engine/autograd.h"
#include "engine/ops.h"

namespace dml::train {

std::vector<std::vector<int64_t>> consecutive_batches(int64_t n, int64_t batch_size) {
  std::vector<std::vector<int64_t>> batches;
  for (int64_t begin = 0; begin < n; begin += batch_size) {
    batches.emplace_back();
    for (int64_t i = begin; i < std::min(n, begin + batch_size); ++i) batches.back().push_back(i);
  }
  return batches;
}

Embedded embed_samples(nn::Module& model, const data::SampleSet& set,
                       const data::SampleLoader& load_sample, int64_t batch_size, int64_t workers,
                       data::BadSamplePolicy bad_samples) {
  const int64_t n = int64_t(set.samples.size());
  DML_CHECK(n > 0, "embed: ", set.name, " holds no samples");
  return embed_batches(model, set, consecutive_batches(n, batch_size), load_sample, workers,
                       bad_samples, "embed " + set.name);
}

Embedded embed_batches(nn::Module& model, const data::SampleSet& set,
                       std::vector<std::vector<int64_t>> batches,
                       const data::SampleLoader& load_sample, int64_t workers,
                       data::BadSamplePolicy bad_samples, const std::string& what) {
  int64_t n = 0;
  for (const auto& batch : batches) n += int64_t(batch.size());
  DML_CHECK(n > 0, "embed: no samples of ", set.name, " to embed");
  const bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  data::BatchLoader loader(set, std::move(batches), load_sample,
                           {.workers = workers, .bad_samples = bad_samples});
  std::vector<Tensor> embeddings, labels, attributes;
  const Device device = model.device();
  // In a log, a line at each quarter of the split.
  Progress progress(what, n, (n + 3) / 4);
  int64_t skipped = 0;  // left out so far (BadSamplePolicy::skip): done too
  while (auto batch = loader.next()) {
    embeddings.push_back(model(batch->images.to(device)).to(Device::cpu()));
    progress.advance(batch->images.size(0) + loader.skipped() - skipped, batch->images.size(0));
    skipped = loader.skipped();
    labels.push_back(batch->labels);
    attributes.push_back(batch->attributes);
  }
  progress.finish();
  model.train(was_training);
  return {concat(embeddings, 0), concat(labels, 0), concat(attributes, 0), loader.skipped()};
}

}  // namespace dml::train
