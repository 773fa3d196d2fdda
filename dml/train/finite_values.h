#pragma once
// Refusing NaN and infinity where they would otherwise pass silently: a
// model whose weights hold them embeds every image as NaN, and an embedding
// file with NaN rows poisons every search over it.
#include <cstdint>
#include <string>

#include "engine/tensor.h"

namespace dml::train {

// The flat index of the first NaN or infinity of a floating-point tensor,
// -1 when there is none (and for integer tensors).
int64_t first_nonfinite(const Tensor& t);

// Throws dml::Error naming `source` (the file) and the first tensor with a
// non-finite value, and where in it.
void check_finite_weights(const NamedTensors& weights, const std::string& source);

// Throws dml::Error naming `what` and the first row of `embeddings` ([N, D])
// with a non-finite value.
void check_finite_embeddings(const Tensor& embeddings, const std::string& what);

}  // namespace dml::train
