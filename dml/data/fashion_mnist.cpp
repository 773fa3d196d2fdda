#include "dml/data/fashion_mnist.h"

#include <algorithm>
#include <filesystem>

#include "dml/data/idx.h"

namespace dml::data {

namespace {

// Prefers the compressed file as distributed; falls back to an unpacked copy.
// When neither exists the .gz name is returned so the error names it.
std::string locate(const std::string& dir, const std::string& stem) {
  std::filesystem::path gz = std::filesystem::path(dir) / (stem + ".gz");
  std::filesystem::path plain = std::filesystem::path(dir) / stem;
  std::error_code ec;
  if (!std::filesystem::exists(gz, ec) && std::filesystem::exists(plain, ec)) return plain.string();
  return gz.string();
}

Tensor to_float_images(const Tensor& pixels, int64_t n, const FashionMnistOptions& o) {
  const int64_t rows = pixels.shape()[1], cols = pixels.shape()[2];
  Tensor images = Tensor::empty({n, 1, rows, cols}, DType::f32);
  // One affine map per pixel: x / 255 or (x / 255 - mean) / std.
  const float scale = float(o.normalize ? 1.0 / (255.0 * kFashionMnistStd) : 1.0 / 255.0);
  const float shift = float(o.normalize ? -kFashionMnistMean / kFashionMnistStd : 0.0);
  const uint8_t* src = pixels.data<uint8_t>();
  float* dst = images.data<float>();
  for (int64_t i = 0, count = n * rows * cols; i < count; ++i)
    dst[i] = float(src[i]) * scale + shift;
  return images;
}

Tensor to_i64_labels(const Tensor& raw, int64_t n, const std::string& path) {
  Tensor labels = Tensor::empty({n}, DType::i64);
  const uint8_t* src = raw.data<uint8_t>();
  int64_t* dst = labels.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    DML_CHECK(src[i] < kFashionMnistClasses, "IDX file ", path, ": label ", int(src[i]),
              " at index ", i, " is not a class in [0, ", kFashionMnistClasses, ")");
    dst[i] = src[i];
  }
  return labels;
}

}  // namespace

ImageDataset load_fashion_mnist(const std::string& dir, Split split,
                                const FashionMnistOptions& options) {
  const std::string prefix = split == Split::train ? "train" : "t10k";
  IdxArray images = read_idx_images(locate(dir, prefix + "-images-idx3-ubyte"));
  IdxArray labels = read_idx_labels(locate(dir, prefix + "-labels-idx1-ubyte"));
  const int64_t count = images.values.shape()[0];
  DML_CHECK(labels.values.shape()[0] == count, "Fashion-MNIST in ", dir, ": ", images.path,
            " holds ", count, " images but ", labels.path, " holds ", labels.values.shape()[0],
            " labels");
  const int64_t n = options.limit < 0 ? count : std::min(options.limit, count);
  return {to_float_images(images.values, n, options), to_i64_labels(labels.values, n, labels.path)};
}

}  // namespace dml::data
