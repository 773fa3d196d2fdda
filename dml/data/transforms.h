#pragma once
// The image transforms of DML training and evaluation, on decoded 8-bit HWC
// images, ending in an f32 CHW tensor. They follow torchvision's semantics
// (transforms v1, 0.14) on uint8 tensors, so published training recipes carry
// over:
//   train: [crop to box] -> RandomResizedCrop(image_size, scale, ratio)
//          -> RandomHorizontalFlip(0.5) -> [grey to RGB] -> to [0, 1] -> Normalize
//   eval:  [crop to box] -> Resize(resize) -> CenterCrop(image_size)
//          -> [grey to RGB] -> to [0, 1] -> Normalize
// Resizing is bilinear with half-pixel centres and no antialiasing
// (torchvision's antialias=False, the default for tensors in 0.14; PIL
// images are always antialiased) and rounds back to uint8 between steps as
// torchvision does on uint8 tensors. All randomness comes from the Generator
// passed in, so a sample's augmentation depends only on its generator.
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "dml/data/image.h"
#include "engine/rng.h"
#include "engine/tensor.h"

namespace dml::data {

struct TransformConfig {
  int64_t image_size = 224;  // the output is image_size x image_size
  // Eval (and train without random_resized_crop): the shorter side is resized
  // to this before the center crop; 0 skips the resize.
  int64_t resize = 256;
  // Train: a RandomResizedCrop; else the eval geometry (resize, center crop).
  bool random_resized_crop = true;
  double scale_min = 0.08, scale_max = 1.0;             // area fraction of the crop
  double ratio_min = 3.0 / 4.0, ratio_max = 4.0 / 3.0;  // width / height of the crop
  bool horizontal_flip = true;                          // train: flip with probability 0.5
  bool to_rgb = true;                                   // grey images become 3 equal channels
  // Per-channel (x / 255 - mean) / std; one value applies to every channel,
  // empty vectors leave the values in [0, 1]. Default: ImageNet's statistics.
  std::vector<float> mean = {0.485f, 0.456f, 0.406f};
  std::vector<float> std = {0.229f, 0.224f, 0.225f};
  // Crop to the sample's bounding box first (CUB, Cars); a sample without a
  // box then throws.
  bool crop_to_box = false;
};

// The transform a model was trained with, from its config's augment.image_size,
// augment.resize, augment.mean, augment.std and model.in_channels: the eval
// geometry and normalisation that evaluation, `dml embed` and a deployment
// apply alike (training sets its random augmentation on top).
TransformConfig model_transform_config(int64_t image_size, int64_t resize, int64_t channels,
                                       const std::vector<double>& mean,
                                       const std::vector<double>& std);

// A rectangle of pixel rows and columns; it may reach outside the image.
struct CropBox {
  int64_t top = 0, left = 0, height = 0, width = 0;
};

// The pixels of `box`; those outside the image are 0 (torchvision pads so).
Image crop(const Image& image, const CropBox& box);

// Bilinear resize to exactly height x width (see the header comment).
Image resize(const Image& image, int64_t height, int64_t width);

// Resize so the shorter side is `size` and the longer one
// int(size * longer / shorter), keeping the aspect ratio (torchvision's
// Resize(int)).
Image resize_shorter(const Image& image, int64_t size);
// The height and width resize_shorter makes of a height x width image.
std::pair<int64_t, int64_t> shorter_resized_size(int64_t height, int64_t width, int64_t size);

// torchvision's CenterCrop: offsets round((size - crop) / 2) half to even;
// a crop larger than the image is centred on zero padding.
CropBox center_crop_box(int64_t height, int64_t width, int64_t crop_height, int64_t crop_width);
Image center_crop(const Image& image, int64_t crop_height, int64_t crop_width);

// torchvision's RandomResizedCrop.get_params: up to 10 tries of a random area
// fraction in [scale_min, scale_max] and a log-uniform aspect ratio in
// [ratio_min, ratio_max] that fits the image, placed uniformly; after 10
// misses a center crop of the whole image clamped to the ratio range. Draws
// from a fixed 11 counters of `gen` whatever the outcome.
CropBox random_resized_crop_box(int64_t height, int64_t width, const TransformConfig& config,
                                Generator& gen);

Image horizontal_flip(const Image& image);

// The pixels of `box` (left, top, width, height), its edges rounded to whole
// pixels (half to even, as PIL's crop does) and clamped to the image; a box
// with nothing inside the image throws.
Image crop_to_box(const Image& image, const BoundingBox& box);

// f32 [channels, height, width]: (x / 255 - mean[c]) / std[c] in float
// arithmetic, as torchvision's ConvertImageDtype then Normalize.
Tensor to_tensor(const Image& image, const std::vector<float>& mean, const std::vector<float>& std);

// The train and eval pipelines above. `box` is needed when config.crop_to_box.
Tensor transform_train(const Image& image, const TransformConfig& config, Generator& gen,
                       const std::optional<BoundingBox>& box = std::nullopt);
Tensor transform_eval(const Image& image, const TransformConfig& config,
                      const std::optional<BoundingBox>& box = std::nullopt);

}  // namespace dml::data
