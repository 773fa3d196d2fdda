#pragma once
// Argument checks the fairness functions share: embeddings as a plain CPU
// matrix outside autograd, and one i64 id (class, attribute value) per sample.
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace dml::fairness {

// A floating [N, D] matrix with N >= min_rows, as a detached CPU tensor of
// `dtype` (f32 or f64). `caller` names the function in errors.
Tensor embedding_matrix(const Tensor& embeddings, DType dtype, const char* caller,
                        int64_t min_rows = 2);

// An i64 vector of one id per embedding row; `what` names it in errors.
std::vector<int64_t> per_sample_ids(const Tensor& ids, int64_t rows, const char* what,
                                    const char* caller);

}  // namespace dml::fairness
