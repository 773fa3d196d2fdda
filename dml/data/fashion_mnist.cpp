#include "dml/data/fashion_mnist.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <utility>

#include "dml/data/idx.h"

namespace dml::data {

namespace {

// The published names of classes 0-9.
const char* const kClassNames[kFashionMnistClasses] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

// Prefers the compressed file as distributed; falls back to an unpacked copy.
// When neither exists the .gz name is returned so the error names it.
std::string locate(const std::string& dir, const std::string& stem) {
  std::filesystem::path gz = std::filesystem::path(dir) / (stem + ".gz");
  std::filesystem::path plain = std::filesystem::path(dir) / stem;
  std::error_code ec;
  if (!std::filesystem::exists(gz, ec) && std::filesystem::exists(plain, ec)) return plain.string();
  return gz.string();
}

// The images and labels of one split, their counts matched and every label
// checked to be a class.
std::pair<IdxArray, IdxArray> read_split(const std::string& dir, Split split) {
  DML_CHECK(split == Split::train || split == Split::test, "Fashion-MNIST in ", dir,
            " has no split '", split_name(split), "'; use train or test");
  const std::string prefix = split == Split::train ? "train" : "t10k";
  IdxArray images = read_idx_images(locate(dir, prefix + "-images-idx3-ubyte"));
  IdxArray labels = read_idx_labels(locate(dir, prefix + "-labels-idx1-ubyte"));
  const int64_t count = images.values.shape()[0];
  DML_CHECK(labels.values.shape()[0] == count, "Fashion-MNIST in ", dir, ": ", images.path,
            " holds ", count, " images but ", labels.path, " holds ", labels.values.shape()[0],
            " labels");
  const uint8_t* label = labels.values.data<uint8_t>();
  for (int64_t i = 0; i < count; ++i)
    DML_CHECK(label[i] < kFashionMnistClasses, "IDX file ", labels.path, ": label ", int(label[i]),
              " at index ", i, " is not a class in [0, ", kFashionMnistClasses, ")");
  return {std::move(images), std::move(labels)};
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

Tensor to_i64_labels(const Tensor& raw, int64_t n) {
  Tensor labels = Tensor::empty({n}, DType::i64);
  std::copy_n(raw.data<uint8_t>(), n, labels.data<int64_t>());
  return labels;
}

}  // namespace

ImageDataset load_fashion_mnist(const std::string& dir, Split split,
                                const FashionMnistOptions& options) {
  auto [images, labels] = read_split(dir, split);
  const int64_t count = images.values.shape()[0];
  const int64_t n = options.limit < 0 ? count : std::min(options.limit, count);
  return {to_float_images(images.values, n, options), to_i64_labels(labels.values, n)};
}

SampleSet read_fashion_mnist_samples(const std::string& dir, Split split,
                                     const std::vector<int64_t>& classes) {
  std::vector<bool> keep(kFashionMnistClasses, classes.empty());
  std::string class_list;
  for (int64_t c : classes) {
    DML_CHECK(c >= 0 && c < kFashionMnistClasses, "Fashion-MNIST: class ", c,
              " is not a class in [0, ", kFashionMnistClasses, ")");
    keep[size_t(c)] = true;
    class_list += detail::concat(class_list.empty() ? " classes " : ",", c);
  }
  auto [images, labels] = read_split(dir, split);
  const int64_t count = images.values.shape()[0];
  const int64_t rows = images.values.shape()[1], cols = images.values.shape()[2];
  const uint8_t* label = labels.values.data<uint8_t>();

  SampleSet set;
  set.name = detail::concat("fashion-mnist ", split_name(split), class_list);
  for (int64_t c = 0; c < kFashionMnistClasses; ++c)
    if (keep[size_t(c)]) set.class_names[c] = kClassNames[c];
  for (int64_t i = 0; i < count; ++i) {
    if (!keep[label[i]]) continue;
    Sample s;
    s.pixel_row = int64_t(set.samples.size());
    s.label = label[i];
    set.samples.push_back(std::move(s));
  }
  // Copy only the kept images, so a class subset holds only its own pixels.
  const int64_t kept = int64_t(set.samples.size()), plane = rows * cols;
  set.pixels = Tensor::empty({kept, rows, cols}, DType::u8);
  const uint8_t* src = images.values.data<uint8_t>();
  uint8_t* dst = set.pixels.data<uint8_t>();
  for (int64_t i = 0, row = 0; i < count; ++i)
    if (keep[label[i]]) std::memcpy(dst + plane * row++, src + plane * i, size_t(plane));
  return set;
}

}  // namespace dml::data
