#pragma once
// The inference path of a trained embedding network (a ResNet backbone and
// the DML embedding head, layers/embedding_head.h): what a deployment runs.
//
// No autograd state, no Module, no Tensor per call. At construction every
// batch norm is folded into the convolution before it (w' = w * gamma /
// sqrt(var + eps), b' = beta - mean * gamma / sqrt(var + eps)) and the
// weights are laid out for the kernels once; a block's residual add and ReLU
// run in the epilogue of its last convolution. Memory is planned once per
// input shape (batch, height, width): one arena whose buffers are reused by
// every layer whose activations are dead, and no allocation per call after
// the first with that shape.
//
// Threads: one InferenceModel may be used by several threads at once. Its
// weights are read-only; each call takes a planned workspace for its shape
// from a pool (a mutex guards the pool only), runs without locks, and gives
// the workspace back. N threads embedding at once hold at most N workspaces
// per shape. Each call parallelises its kernels with OpenMP on the calling
// thread's team (omp_set_num_threads on that thread bounds it).
//
// The output equals the training engine's eval-mode forward of the same
// weights (layers/embedding_head.h's EmbeddingNet) within f32 rounding.
#include <cstdint>
#include <memory>
#include <string>

#include "engine/tensor.h"
#include "layers/embedding_head.h"

namespace dml::nn {

// What an exported model's config says of its network.
struct InferenceArchitecture {
  std::string backbone;  // one of resnet_names()
  int64_t in_channels = 3;
  int64_t embedding_dim = 128;
  GlobalPool pool = GlobalPool::average;
  bool layer_norm = false;
  bool normalize = true;  // L2-normalise the embedding
};

class InferenceModel {
 public:
  // `weights`: the exported model's tensors under their own names
  // ("backbone.conv1.weight", "backbone.bn1.running_mean", "head.fc.weight",
  // ...; training-only entries such as num_batches_tracked are ignored). A
  // missing, mis-shaped, non-f32 or non-finite tensor throws dml::Error
  // naming it.
  InferenceModel(const InferenceArchitecture& architecture, const NamedTensors& weights);
  ~InferenceModel();
  InferenceModel(InferenceModel&&) noexcept;
  InferenceModel& operator=(InferenceModel&&) noexcept;

  const InferenceArchitecture& architecture() const;
  int64_t embedding_dim() const;

  // images: f32 NCHW [n, in_channels, height, width], contiguous, already
  // normalised; out: [n, embedding_dim]. n, height and width must be >= 1 and
  // the image large enough for every layer's output to be at least 1 x 1
  // (dml::Error otherwise, nothing written).
  void embed(const float* images, int64_t n, int64_t height, int64_t width, float* out) const;

  // Bytes of planned workspace held now (every shape, every idle workspace).
  int64_t workspace_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dml::nn
