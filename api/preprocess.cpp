#include "api/preprocess.h"

#include <cstring>

#include "api/arguments.h"
#include "api/files.h"
#include "api/status.h"
#include "dml/data/image.h"
#include "dml/data/transforms.h"

namespace dml::api {

namespace {

// The pixels of the image resize_shorter makes, over the limit? A 1 x 50000
// strip passes the decode limit, but its resize would take gigabytes.
bool resized_too_large(const dml_model& model, int64_t height, int64_t width) {
  const auto [h, w] = data::shorter_resized_size(height, width, model.transform.resize);
  return saturating_mul(h, w) > model.max_image_pixels;
}

void transform_into(const dml_model& model, const data::Image& image, float* slot) {
  const Tensor pixels = data::transform_eval(image, model.transform);
  std::memcpy(slot, pixels.data<float>(), pixels.nbytes());
}

}  // namespace

void preprocess_file(const dml_model& model, const std::string& path, const std::string& what,
                     float* slot) {
  require_readable_file(path, what);
  const data::Image image = with_status(DML_ERROR_FORMAT, what + ": ", [&] {
    return data::decode_image(path, int(channels_of(model)), model.max_image_pixels);
  });
  DML_API_CHECK(!resized_too_large(model, image.height, image.width), DML_ERROR_FORMAT, what, " '",
                path, "': its ", image.height, " x ", image.width,
                " pixels resized for the model (shorter side to ", model.transform.resize,
                ") exceed options.max_image_pixels = ", model.max_image_pixels,
                "; crop the image or raise the limit");
  transform_into(model, image, slot);
}

void check_image(const dml_model& model, const dml_image& image, size_t index) {
  DML_API_CHECK(image.pixels != nullptr, DML_ERROR_INVALID_ARGUMENT, "images[", index,
                "].pixels is NULL; pass the image's first row");
  DML_API_CHECK(image.width >= 1 && image.height >= 1, DML_ERROR_INVALID_ARGUMENT, "images[", index,
                "] is ", image.width, " x ", image.height,
                " (width x height); both must be at least 1");
  DML_API_CHECK(image.channels == 1 || image.channels == 3, DML_ERROR_INVALID_ARGUMENT, "images[",
                index, "].channels is ", image.channels, "; pass 1 (grey) or 3 (RGB)");
  const int64_t pixels = saturating_mul(image.width, image.height);
  DML_API_CHECK(
      pixels <= model.max_image_pixels && !resized_too_large(model, image.height, image.width),
      DML_ERROR_INVALID_ARGUMENT, "images[", index, "] is ", image.width, " x ", image.height,
      " pixels, which (or whose resize to a shorter side of ", model.transform.resize,
      ") exceeds options.max_image_pixels = ", model.max_image_pixels,
      "; crop the image or raise the limit");
  DML_API_CHECK(image.row_stride >= image.width * image.channels, DML_ERROR_INVALID_ARGUMENT,
                "images[", index, "].row_stride is ", image.row_stride,
                ", less than width x channels = ", image.width * image.channels,
                "; pass the bytes from one row to the next");
}

void preprocess_image(const dml_model& model, const dml_image& image, float* slot) {
  data::Image copy{image.height, image.width, image.channels, {}};
  const size_t row_bytes = size_t(image.width * image.channels);
  copy.pixels.resize(row_bytes * size_t(image.height));
  for (int64_t y = 0; y < image.height; ++y)
    std::memcpy(copy.pixels.data() + size_t(y) * row_bytes,
                image.pixels + size_t(y) * size_t(image.row_stride), row_bytes);
  if (copy.channels != channels_of(model))
    copy = data::convert_channels(copy, int(channels_of(model)));
  transform_into(model, copy, slot);
}

}  // namespace dml::api
