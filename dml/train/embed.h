#pragma once
// Embedding a whole split: the model in eval mode, no autograd history,
// batches of consecutive samples decoded by the loader's workers (eval
// transforms only, so the result does not depend on the seed).
#include <cstdint>

#include "dml/data/batch_loader.h"
#include "layers/module.h"

namespace dml::train {

struct Embedded {
  Tensor embeddings;  // f32 [N, D], row i = sample i
  Tensor labels;      // i64 [N]
  Tensor attributes;  // i64 [N, A]
};

Embedded embed_samples(nn::Module& model, const data::SampleSet& set,
                       const data::SampleLoader& load_sample, int64_t batch_size, int64_t workers);

}  // namespace dml::train
