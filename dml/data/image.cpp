#include "dml/data/image.h"

#include <stb/stb_image.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>

#include "base/error.h"

namespace dml::data {

namespace {

void check_channels(int channels, const std::string& what) {
  DML_CHECK(channels == 0 || channels == 1 || channels == 3, what, ": channels = ", channels,
            " must be 0 (as stored), 1 (grey) or 3 (RGB)");
}

// The container format by its first bytes, for messages.
const char* format_of(const std::vector<unsigned char>& b) {
  if (b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return "JPEG";
  if (b.size() >= 8 && std::memcmp(b.data(), "\x89PNG\r\n\x1a\n", 8) == 0) return "PNG";
  return "image";
}

}  // namespace

Image decode_image(const std::string& path, int channels) {
  check_channels(channels, path);
  std::ifstream in(path, std::ios::binary);
  DML_CHECK(in, "cannot open image ", path, ": ", std::strerror(errno),
            " (complete the download, or fix the dataset's list)");
  const std::vector<unsigned char> bytes{std::istreambuf_iterator<char>(in), {}};
  DML_CHECK(!in.bad(), "cannot read image ", path, ": I/O error");
  DML_CHECK(!bytes.empty(), "image ", path, " is an empty file");
  DML_CHECK(bytes.size() <= size_t(INT_MAX), "image ", path, " is larger than 2 GiB; refused");

  int width = 0, height = 0, stored = 0;
  const int len = int(bytes.size());
  int want = channels;
  if (want == 0) {
    // Decide grey or RGB from the header; the decode below reports damage.
    want =
        stbi_info_from_memory(bytes.data(), len, &width, &height, &stored) && stored <= 2 ? 1 : 3;
  }
  std::unique_ptr<stbi_uc, void (*)(void*)> data(
      stbi_load_from_memory(bytes.data(), len, &width, &height, &stored, want), stbi_image_free);
  DML_CHECK(data, "image ", path, ": cannot decode this ", format_of(bytes),
            " (stb_image: ", stbi_failure_reason(),
            "); the file is truncated, damaged or of an unsupported kind");
  Image image{height, width, want, {}};
  image.pixels.assign(data.get(), data.get() + size_t(width) * size_t(height) * size_t(want));
  return image;
}

Image convert_channels(const Image& image, int channels) {
  DML_CHECK(channels == 1 || channels == 3, "convert_channels: channels = ", channels,
            " must be 1 or 3");
  DML_CHECK(image.channels == 1 || image.channels == 3, "convert_channels: the image has ",
            image.channels, " channels; expected 1 or 3");
  if (image.channels == channels) return image;
  const size_t n = size_t(image.height * image.width);
  Image out{image.height, image.width, channels, std::vector<uint8_t>(n * size_t(channels))};
  const uint8_t* src = image.pixels.data();
  uint8_t* dst = out.pixels.data();
  for (size_t i = 0; i < n; ++i) {
    if (channels == 3) {
      dst[3 * i] = dst[3 * i + 1] = dst[3 * i + 2] = src[i];
    } else {
      const int r = src[3 * i], g = src[3 * i + 1], b = src[3 * i + 2];
      dst[i] = uint8_t((r * 77 + g * 150 + b * 29) >> 8);
    }
  }
  return out;
}

Image image_of(const SampleSet& set, const Sample& sample, int channels) {
  if (!sample.path.empty()) return decode_image(sample.path, channels);
  check_channels(channels, set.name);
  const Tensor& px = set.pixels;
  DML_CHECK(px.defined() && px.dtype() == DType::u8 && (px.dim() == 3 || px.dim() == 4), set.name,
            ": a sample without a path needs SampleSet::pixels as u8 [n, h, w] or [n, h, w, c]");
  const int64_t stored = px.dim() == 4 ? px.shape()[3] : 1;
  DML_CHECK(stored == 1 || stored == 3, set.name, ": pixels have ", stored,
            " channels; expected 1 or 3");
  DML_CHECK(sample.pixel_row >= 0 && sample.pixel_row < px.shape()[0], set.name, ": pixel row ",
            sample.pixel_row, " is outside the ", px.shape()[0], " in-memory images");
  Image image{px.shape()[1], px.shape()[2], stored, {}};
  const size_t bytes = size_t(image.height * image.width * stored);
  const uint8_t* row = px.data<uint8_t>() + size_t(sample.pixel_row) * bytes;
  image.pixels.assign(row, row + bytes);
  return channels == 0 ? image : convert_channels(image, channels);
}

}  // namespace dml::data
