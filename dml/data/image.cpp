#include "dml/data/image.h"

// stb_image is compiled into this file, its functions static: the library
// needs no stb library at run time and exports none of stb's symbols.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <climits>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string_view>

#include "base/error.h"
#include "base/regular_file.h"

namespace dml::data {

namespace {

void check_channels(int channels, const std::string& what) {
  DML_CHECK(channels == 0 || channels == 1 || channels == 3, what, ": channels = ", channels,
            " must be 0 (as stored), 1 (grey) or 3 (RGB)");
}

// The container format by its first bytes, for messages.
const char* format_of(std::string_view b) {
  if (b.starts_with("\xFF\xD8\xFF")) return "JPEG";
  if (b.starts_with("\x89PNG\r\n\x1a\n")) return "PNG";
  return "image";
}

constexpr const char* kOpenHint = " (complete the download, or fix the dataset's list)";

// The header's claim checked before a decode allocates for it.
void check_pixels(const std::string& path, int64_t width, int64_t height, int64_t max_pixels) {
  const int64_t pixels = width * height;
  DML_CHECK(pixels <= max_pixels, "image ", path, " is ", width, " x ", height, " = ", pixels,
            " pixels by its header, over the limit of ", max_pixels,
            " (data.max_image_pixels); raise data.max_image_pixels to read it, or shrink the "
            "image");
}

struct Size {
  int64_t width = 0, height = 0;
};

uint32_t big_endian(std::string_view b, size_t at, int bytes) {
  uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | uint8_t(b[at + size_t(i)]);
  return v;
}

// The size a PNG's IHDR or a JPEG's frame header claims, when `start` (the
// file's first bytes) holds it. stb_image's info refuses a size whose decode
// would pass 1 GiB without telling it, so for the pixel limit's message the
// two common formats are read here.
std::optional<Size> claimed_size(std::string_view b) {
  if (b.starts_with("\x89PNG\r\n\x1a\n")) {
    if (b.size() < 24 || b.substr(12, 4) != "IHDR") return std::nullopt;
    return Size{big_endian(b, 16, 4), big_endian(b, 20, 4)};
  }
  if (!b.starts_with("\xFF\xD8")) return std::nullopt;
  for (size_t at = 2; at + 4 <= b.size();) {
    if (uint8_t(b[at]) != 0xFF) return std::nullopt;
    const uint8_t marker = uint8_t(b[at + 1]);
    if (marker == 0xFF || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      at += marker == 0xFF ? 1 : 2;  // fill byte, or a marker without a length
      continue;
    }
    // SOF0-SOF15 but DHT (C4), JPG (C8) and DAC (CC): length, precision,
    // height, width.
    const bool frame =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (frame)
      return at + 9 <= b.size()
                 ? std::optional(Size{big_endian(b, at + 7, 2), big_endian(b, at + 5, 2)})
                 : std::nullopt;
    at += 2 + big_endian(b, at + 2, 2);
  }
  return std::nullopt;
}

// stb_image could not read the header or the image: a size over the limit
// is the reason to give when there is one.
[[noreturn]] void fail_decode(const std::string& path, std::string_view start, int64_t max_pixels) {
  const std::string reason = stbi_failure_reason();
  // Past stb_image's largest side (2^24) the header is corrupt, not large.
  constexpr int64_t kMaxSide = int64_t(1) << 24;
  if (const std::optional<Size> size = claimed_size(start);
      size && size->width <= kMaxSide && size->height <= kMaxSide)
    check_pixels(path, size->width, size->height, max_pixels);
  throw Error(detail::concat("image ", path, ": cannot decode this ", format_of(start),
                             " (stb_image: ", reason,
                             "); the file is truncated, damaged or of an unsupported kind"));
}

// stb_image's reader over an open file: it pulls the header's bytes only.
// Errors are kept and rethrown after stb returns (no exception crosses C).
struct HeaderReader {
  static constexpr size_t kStartBytes = 65536;  // a JPEG's frame header follows its EXIF
  RegularFile& file;
  std::string start;  // the first bytes, for fail_decode
  std::exception_ptr error;
  bool at_end = false;

  static int read(void* user, char* data, int size) {
    auto& r = *static_cast<HeaderReader*>(user);
    try {
      const size_t got = r.file.read_some(data, size_t(size));
      r.at_end = got < size_t(size);
      if (r.start.size() < kStartBytes)
        r.start.append(data, std::min(got, kStartBytes - r.start.size()));
      return int(got);
    } catch (...) {
      r.error = std::current_exception();
      r.at_end = true;
      return 0;
    }
  }
  static void skip(void* user, int n) {
    char sink[4096];
    for (int left = n; left > 0;) {
      const int step = std::min(left, int(sizeof sink));
      if (read(user, sink, step) < step) return;
      left -= step;
    }
  }
  static int eof(void* user) { return static_cast<HeaderReader*>(user)->at_end; }
};

}  // namespace

ImageHeader read_image_header(const std::string& path, int64_t max_pixels) {
  RegularFile file(path, "image", kOpenHint);
  DML_CHECK(file.size() > 0, "image ", path, " is an empty file");
  HeaderReader reader{file, {}, nullptr, false};
  const stbi_io_callbacks io{&HeaderReader::read, &HeaderReader::skip, &HeaderReader::eof};
  int width = 0, height = 0, stored = 0;
  const bool ok = stbi_info_from_callbacks(&io, &reader, &width, &height, &stored);
  if (reader.error) std::rethrow_exception(reader.error);
  if (!ok) fail_decode(path, reader.start, max_pixels);
  check_pixels(path, width, height, max_pixels);
  return {height, width, stored};
}

Image decode_image(const std::string& path, int channels, int64_t max_pixels) {
  check_channels(channels, path);
  const std::string bytes = RegularFile(path, "image", kOpenHint).read_rest(INT_MAX);
  DML_CHECK(!bytes.empty(), "image ", path, " is an empty file");

  const auto* begin = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = int(bytes.size());
  int width = 0, height = 0, stored = 0;
  if (!stbi_info_from_memory(begin, len, &width, &height, &stored))
    fail_decode(path, bytes, max_pixels);
  check_pixels(path, width, height, max_pixels);
  // 0 keeps grey as grey (with or without alpha) and makes colour RGB.
  const int want = channels != 0 ? channels : stored <= 2 ? 1 : 3;
  std::unique_ptr<stbi_uc, void (*)(void*)> data(
      stbi_load_from_memory(begin, len, &width, &height, &stored, want), stbi_image_free);
  if (!data) fail_decode(path, bytes, max_pixels);
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

Image image_of(const SampleSet& set, const Sample& sample, int channels, int64_t max_pixels) {
  if (!sample.path.empty()) return decode_image(sample.path, channels, max_pixels);
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
