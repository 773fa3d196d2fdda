#pragma once
// Decoded images: 8-bit, height x width x channels (HWC, row-major), grey (1
// channel) or RGB (3). Files are decoded with stb_image (JPEG, PNG, and the
// other formats stb reads: BMP, GIF's first frame, TGA, PNM, PSD, HDR, PIC);
// in-memory datasets hand over a row of SampleSet::pixels. image_of() does
// either, so the loader treats both the same.
#include <cstdint>
#include <string>
#include <vector>

#include "dml/data/sample.h"

namespace dml::data {

struct Image {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;  // height * width * channels bytes, HWC

  uint8_t at(int64_t y, int64_t x, int64_t c) const {
    return pixels[size_t((y * width + x) * channels + c)];
  }
};

// The most pixels (width x height) an image file may have before it is
// decoded: a small, highly compressed file can claim a size whose decode takes
// gigabytes. A run sets it with data.max_image_pixels.
constexpr int64_t kDefaultMaxImagePixels = 50'000'000;

// What an image file's header says.
struct ImageHeader {
  int64_t height = 0, width = 0, channels = 0;  // channels as stored (1-4)
};

// Reads only as much of an image file as its header takes (no decode), and
// checks it: a missing file, one that is not a regular file, an undecodable
// header or more than max_pixels pixels throws dml::Error naming the file.
ImageHeader read_image_header(const std::string& path, int64_t max_pixels = kDefaultMaxImagePixels);

// `channels` asks for 1 (grey), 3 (RGB) or 0 (as stored: grey stays grey,
// colour becomes RGB; an alpha channel is dropped).
//
// Decodes an image file. A missing, unreadable, truncated or undecodable file,
// one that is not a regular file, or one whose header claims more than
// max_pixels pixels (checked before decoding) throws dml::Error naming the
// file and the reason.
Image decode_image(const std::string& path, int channels = 0,
                   int64_t max_pixels = kDefaultMaxImagePixels);

// The image of one sample: its file decoded, or its row of set.pixels (u8
// [n, h, w] grey, or [n, h, w, c] with c = 1 or 3).
Image image_of(const SampleSet& set, const Sample& sample, int channels = 0,
               int64_t max_pixels = kDefaultMaxImagePixels);

// The image with 1 or 3 channels: grey is copied to R, G and B; RGB becomes
// grey by stb_image's luma weights, (77 R + 150 G + 29 B) >> 8.
Image convert_channels(const Image& image, int channels);

}  // namespace dml::data
