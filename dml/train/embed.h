#pragma once
// Embedding a whole split: the model in eval mode, no autograd history,
// batches of consecutive samples decoded by the loader's workers (eval
// transforms only, so the result does not depend on the seed).
#include <cstdint>
#include <string>
#include <vector>

#include "dml/data/batch_loader.h"
#include "layers/module.h"

namespace dml::train {

struct Embedded {
  Tensor embeddings;    // f32 [N, D], row i = sample i (of those loaded)
  Tensor labels;        // i64 [N]
  Tensor attributes;    // i64 [N, A]
  int64_t skipped = 0;  // unreadable images left out (BadSamplePolicy::skip)
};

// Batches of `batch_size` consecutive samples of [0, n), the last one short.
std::vector<std::vector<int64_t>> consecutive_batches(int64_t n, int64_t batch_size);

// The samples of `batches` (at least one), embedded in order. An unreadable
// image ends the embedding (BadSamplePolicy::error), or is left out with its
// row and counted (skip), so rows then no longer match sample indices one to
// one. `what` labels the progress line.
Embedded embed_batches(nn::Module& model, const data::SampleSet& set,
                       std::vector<std::vector<int64_t>> batches,
                       const data::SampleLoader& load_sample, int64_t workers,
                       data::BadSamplePolicy bad_samples, const std::string& what);

// The whole split, in consecutive batches of `batch_size`.
Embedded embed_samples(nn::Module& model, const data::SampleSet& set,
                       const data::SampleLoader& load_sample, int64_t batch_size, int64_t workers,
                       data::BadSamplePolicy bad_samples = data::BadSamplePolicy::error);

}  // namespace dml::train
