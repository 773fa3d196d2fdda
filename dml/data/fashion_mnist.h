#pragma once
// Fashion-MNIST (Xiao et al. 2017): 28x28 grey images of 10 clothing classes,
// 60000 for training and 10000 for testing, shipped as four IDX files. The
// loader turns one split into float images and i64 labels, ready for ops.
#include <cstdint>
#include <string>
#include <vector>

#include "dml/data/sample.h"
#include "engine/tensor.h"

namespace dml::data {

// Per-pixel statistics of the training images scaled to [0, 1].
constexpr double kFashionMnistMean = 0.2860;
constexpr double kFashionMnistStd = 0.3530;
constexpr int64_t kFashionMnistClasses = 10;

struct FashionMnistOptions {
  // Subtract kFashionMnistMean and divide by kFashionMnistStd; else pixels stay in [0, 1].
  bool normalize = true;
  // Keep only the first `limit` examples; negative keeps all.
  int64_t limit = -1;
};

struct ImageDataset {
  Tensor images;  // f32 [n, 1, rows, cols]
  Tensor labels;  // i64 [n]
};

// Loads <dir>/train-images-idx3-ubyte.gz and its labels (or the t10k-* test
// files for Split::test; other splits throw); an uncompressed file of the same
// name without ".gz" is used when the compressed one is absent.
ImageDataset load_fashion_mnist(const std::string& dir, Split split,
                                const FashionMnistOptions& options = {});

// The same split as a SampleSet with its pixels in memory: SampleSet::pixels
// is u8 [n, 28, 28] holding only the kept images, Sample::pixel_row indexes
// it, labels are the classes 0-9, named as published ("T-shirt/top", ...,
// "Ankle boot") in SampleSet::class_names. Keeps the images whose class is in
// `classes` (every class when empty), in file order: the zero-shot protocol
// trains on some classes and tests on the others.
SampleSet read_fashion_mnist_samples(const std::string& dir, Split split,
                                     const std::vector<int64_t>& classes = {});

}  // namespace dml::data
