#include "dml/data/transforms.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"

namespace dml::data {

namespace {

constexpr int kCropAttempts = 10;

void check_image(const Image& image, const char* op) {
  DML_CHECK(image.height > 0 && image.width > 0 && image.channels > 0 &&
                image.pixels.size() == size_t(image.height * image.width * image.channels),
            op, ": invalid image ", image.height, "x", image.width, "x", image.channels, " with ",
            image.pixels.size(), " bytes");
}

// Python's round(): to the nearest integer, halves to even.
int64_t round_half_even(double v) {
  return int64_t(std::nearbyint(v));
}

// Source pixels and weights of one output row or column, as PyTorch's
// upsample_bilinear2d (align_corners=False) computes them: a float scale, the
// source coordinate in double, the weights rounded to float. Checked against
// torchvision's outputs pixel for pixel (tests/test_transforms.cpp).
struct Taps {
  int64_t i0, i1;
  float w0, w1;
};

std::vector<Taps> bilinear_taps(int64_t in, int64_t out) {
  std::vector<Taps> taps(static_cast<size_t>(out));
  const float scale = float(in) / float(out);
  for (int64_t o = 0; o < out; ++o) {
    const double src = std::max(0.0, double(scale) * (double(o) + 0.5) - 0.5);
    const int64_t i0 = std::min(int64_t(src), in - 1);
    const float w1 = in == out ? 0.0f : std::clamp(float(src - double(i0)), 0.0f, 1.0f);
    taps[size_t(o)] = {i0, i0 + (i0 < in - 1 ? 1 : 0), 1.0f - w1, w1};
  }
  return taps;
}

// a * b + c rounded once to float, as an FMA instruction computes it. In
// double, a * b is exact and the sum nearly always is, without needing FMA
// hardware (std::fma falls back to a slow software routine).
float fused(float a, float b, float c) {
  return float(double(a) * double(b) + double(c));
}

// 1 or 3 channels as config.to_rgb asks.
Image output_channels(Image image, const TransformConfig& config) {
  if (config.to_rgb && image.channels == 1) return convert_channels(image, 3);
  return image;
}

// The steps both pipelines start with.
Image prepare(const Image& image, const TransformConfig& config,
              const std::optional<BoundingBox>& box) {
  check_image(image, "transform");
  DML_CHECK(config.image_size > 0, "transform: image_size = ", config.image_size, " must be > 0");
  DML_CHECK(config.resize >= 0, "transform: resize = ", config.resize, " must be >= 0");
  if (!config.crop_to_box) return image;
  DML_CHECK(box.has_value(),
            "transform: crop_to_box is set but the sample has no bounding box (use a dataset "
            "with boxes, such as CUB-200-2011 or the Cars196 devkit, or turn crop_to_box off)");
  return crop_to_box(image, *box);
}

Image eval_geometry(const Image& image, const TransformConfig& config) {
  const Image resized = config.resize > 0 ? resize_shorter(image, config.resize) : image;
  return center_crop(resized, config.image_size, config.image_size);
}

}  // namespace

Image crop(const Image& image, const CropBox& box) {
  check_image(image, "crop");
  DML_CHECK(box.height > 0 && box.width > 0, "crop: empty crop ", box.height, "x", box.width);
  const int64_t c = image.channels;
  Image out{box.height, box.width, c, std::vector<uint8_t>(size_t(box.height * box.width * c), 0)};
  // The columns of the box that lie inside the image, copied row by row.
  const int64_t x0 = std::clamp<int64_t>(box.left, 0, image.width);
  const int64_t x1 = std::clamp<int64_t>(box.left + box.width, 0, image.width);
  for (int64_t y = 0; y < box.height; ++y) {
    const int64_t sy = box.top + y;
    if (sy < 0 || sy >= image.height || x1 <= x0) continue;
    std::copy_n(image.pixels.begin() + (sy * image.width + x0) * c, (x1 - x0) * c,
                out.pixels.begin() + (y * box.width + (x0 - box.left)) * c);
  }
  return out;
}

Image resize(const Image& image, int64_t height, int64_t width) {
  check_image(image, "resize");
  DML_CHECK(height > 0 && width > 0, "resize: target size ", height, "x", width,
            " must be positive");
  const std::vector<Taps> ty = bilinear_taps(image.height, height);
  const std::vector<Taps> tx = bilinear_taps(image.width, width);
  const int64_t c = image.channels;
  Image out{height, width, c, std::vector<uint8_t>(size_t(height * width * c))};
  auto px = [&](int64_t y, int64_t x, int64_t ch) { return float(image.at(y, x, ch)); };
  for (int64_t y = 0; y < height; ++y) {
    const Taps& v = ty[size_t(y)];
    for (int64_t x = 0; x < width; ++x) {
      const Taps& h = tx[size_t(x)];
      for (int64_t ch = 0; ch < c; ++ch) {
        // PyTorch's order of float operations, with the fused multiply-adds
        // its AVX2 kernels compile to; without them about 1 pixel in 2000
        // rounds to the other side of a half.
        const float top = fused(px(v.i0, h.i0, ch), h.w0, px(v.i0, h.i1, ch) * h.w1);
        const float bottom = fused(px(v.i1, h.i0, ch), h.w0, px(v.i1, h.i1, ch) * h.w1);
        const float value = fused(top, v.w0, bottom * v.w1);
        out.pixels[size_t((y * width + x) * c + ch)] =
            uint8_t(std::clamp(std::nearbyint(value), 0.0f, 255.0f));
      }
    }
  }
  return out;
}

Image resize_shorter(const Image& image, int64_t size) {
  check_image(image, "resize_shorter");
  DML_CHECK(size > 0, "resize_shorter: size = ", size, " must be > 0");
  const auto [height, width] = shorter_resized_size(image.height, image.width, size);
  return resize(image, height, width);
}

std::pair<int64_t, int64_t> shorter_resized_size(int64_t height, int64_t width, int64_t size) {
  const int64_t shorter = std::min(height, width), longer = std::max(height, width);
  const int64_t scaled = size * longer / shorter;
  return width <= height ? std::pair{scaled, size} : std::pair{size, scaled};
}

CropBox center_crop_box(int64_t height, int64_t width, int64_t crop_height, int64_t crop_width) {
  DML_CHECK(crop_height > 0 && crop_width > 0, "center_crop: crop size ", crop_height, "x",
            crop_width, " must be positive");
  // A crop larger than the image pads (crop - size) / 2 before it, rounded down.
  auto offset = [](int64_t size, int64_t crop) {
    return crop > size ? -((crop - size) / 2) : round_half_even(double(size - crop) / 2.0);
  };
  return {offset(height, crop_height), offset(width, crop_width), crop_height, crop_width};
}

Image center_crop(const Image& image, int64_t crop_height, int64_t crop_width) {
  return crop(image, center_crop_box(image.height, image.width, crop_height, crop_width));
}

CropBox random_resized_crop_box(int64_t height, int64_t width, const TransformConfig& config,
                                Generator& gen) {
  DML_CHECK(height > 0 && width > 0, "random_resized_crop: empty image ", height, "x", width);
  DML_CHECK(config.scale_min > 0 && config.scale_min <= config.scale_max,
            "random_resized_crop: scale range [", config.scale_min, ", ", config.scale_max,
            "] must satisfy 0 < scale_min <= scale_max");
  DML_CHECK(config.ratio_min > 0 && config.ratio_min <= config.ratio_max,
            "random_resized_crop: ratio range [", config.ratio_min, ", ", config.ratio_max,
            "] must satisfy 0 < ratio_min <= ratio_max");
  const uint64_t first = gen.reserve(kCropAttempts + 1);
  const double area = double(height * width);
  const double log_min = std::log(config.ratio_min), log_max = std::log(config.ratio_max);
  for (int k = 0; k < kCropAttempts; ++k) {
    const PhiloxBlock r = philox4x32_10(first + uint64_t(k), gen.seed());
    const double target =
        area * (config.scale_min + uniform_f64(r[0], r[1]) * (config.scale_max - config.scale_min));
    const double ratio = std::exp(log_min + uniform_f64(r[2], r[3]) * (log_max - log_min));
    const int64_t w = round_half_even(std::sqrt(target * ratio));
    const int64_t h = round_half_even(std::sqrt(target / ratio));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const PhiloxBlock p = philox4x32_10(first + kCropAttempts, gen.seed());
      const uint64_t top = ((uint64_t(p[0]) << 32) | p[1]) % uint64_t(height - h + 1);
      const uint64_t left = ((uint64_t(p[2]) << 32) | p[3]) % uint64_t(width - w + 1);
      return {int64_t(top), int64_t(left), h, w};
    }
  }
  // No try fitted: the whole image, clamped to the ratio range, centred.
  const double in_ratio = double(width) / double(height);
  int64_t w = width, h = height;
  if (in_ratio < config.ratio_min) {
    h = round_half_even(double(w) / config.ratio_min);
  } else if (in_ratio > config.ratio_max) {
    w = round_half_even(double(h) * config.ratio_max);
  }
  return {(height - h) / 2, (width - w) / 2, h, w};
}

Image horizontal_flip(const Image& image) {
  check_image(image, "horizontal_flip");
  Image out = image;
  const int64_t c = image.channels;
  for (int64_t y = 0; y < image.height; ++y)
    for (int64_t x = 0; x < image.width; ++x)
      std::copy_n(image.pixels.begin() + (y * image.width + x) * c, c,
                  out.pixels.begin() + (y * image.width + (image.width - 1 - x)) * c);
  return out;
}

Image crop_to_box(const Image& image, const BoundingBox& box) {
  check_image(image, "crop_to_box");
  const int64_t left = std::max<int64_t>(0, round_half_even(box.x));
  const int64_t top = std::max<int64_t>(0, round_half_even(box.y));
  const int64_t right = std::min(image.width, round_half_even(double(box.x) + box.width));
  const int64_t bottom = std::min(image.height, round_half_even(double(box.y) + box.height));
  DML_CHECK(right > left && bottom > top, "crop_to_box: the box (x ", box.x, ", y ", box.y,
            ", width ", box.width, ", height ", box.height, ") holds no pixel of the ", image.width,
            "x", image.height, " image (the annotation does not fit the image)");
  return crop(image, {top, left, bottom - top, right - left});
}

Tensor to_tensor(const Image& image, const std::vector<float>& mean,
                 const std::vector<float>& std) {
  check_image(image, "to_tensor");
  const int64_t c = image.channels, plane = image.height * image.width;
  auto per_channel = [&](const std::vector<float>& v, const char* name) {
    DML_CHECK(v.size() <= 1 || int64_t(v.size()) == c, "to_tensor: ", name, " has ", v.size(),
              " values for an image of ", c, " channels (give 1 or ", c, ", or none)");
  };
  per_channel(mean, "mean");
  per_channel(std, "std");
  DML_CHECK(mean.empty() == std.empty(), "to_tensor: give both mean and std, or neither");
  for (float s : std) DML_CHECK(s != 0, "to_tensor: std holds a 0");
  Tensor out = Tensor::empty({c, image.height, image.width}, DType::f32);
  float* dst = out.data<float>();
  for (int64_t ch = 0; ch < c; ++ch) {
    const bool normalize = !mean.empty();
    const float m = normalize ? mean[mean.size() == 1 ? 0 : size_t(ch)] : 0.0f;
    const float s = normalize ? std[std.size() == 1 ? 0 : size_t(ch)] : 1.0f;
    for (int64_t i = 0; i < plane; ++i) {
      const float x = float(image.pixels[size_t(i * c + ch)]) / 255.0f;
      dst[ch * plane + i] = normalize ? (x - m) / s : x;
    }
  }
  return out;
}

Tensor transform_train(const Image& image, const TransformConfig& config, Generator& gen,
                       const std::optional<BoundingBox>& box) {
  Image img = prepare(image, config, box);
  if (config.random_resized_crop) {
    const CropBox b = random_resized_crop_box(img.height, img.width, config, gen);
    img = resize(crop(img, b), config.image_size, config.image_size);
  } else {
    img = eval_geometry(img, config);
  }
  if (config.horizontal_flip) {
    const PhiloxBlock r = philox4x32_10(gen.reserve(1), gen.seed());
    if (uniform_f64(r[0], r[1]) < 0.5) img = horizontal_flip(img);
  }
  return to_tensor(output_channels(std::move(img), config), config.mean, config.std);
}

TransformConfig model_transform_config(int64_t image_size, int64_t resize, int64_t channels,
                                       const std::vector<double>& mean,
                                       const std::vector<double>& std) {
  return {.image_size = image_size,
          .resize = resize,
          .random_resized_crop = false,
          .horizontal_flip = false,
          .to_rgb = channels == 3,
          .mean = std::vector<float>(mean.begin(), mean.end()),
          .std = std::vector<float>(std.begin(), std.end())};
}

Tensor transform_eval(const Image& image, const TransformConfig& config,
                      const std::optional<BoundingBox>& box) {
  Image img = eval_geometry(prepare(image, config, box), config);
  return to_tensor(output_channels(std::move(img), config), config.mean, config.std);
}

}  // namespace dml::data
