#pragma once
// Helpers the dataset and image tests share: small text and image files
// written into a test's scratch directory.
#include <gtest/gtest.h>
#include <stb/stb_image_write.h>

#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dml/data/image.h"

namespace dml::test {

inline void write_text(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream f(path, std::ios::binary);
  f << text;
  ASSERT_TRUE(f.good()) << path;
}

// A deterministic image whose every byte differs from its neighbours.
inline data::Image pattern_image(int64_t height, int64_t width, int64_t channels, int seed = 0) {
  data::Image image{height, width, channels, {}};
  for (int64_t i = 0; i < height * width * channels; ++i)
    image.pixels.push_back(uint8_t((i * 37 + seed * 101 + 11) % 256));
  return image;
}

// Writes `image` as JPEG (quality 95) for a .jpg or .jpeg name in any case
// (SOP's files are .JPG), else as PNG (lossless).
inline void write_image(const std::string& path, const data::Image& image) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const int w = int(image.width), h = int(image.height), c = int(image.channels);
  std::string extension = std::filesystem::path(path).extension().string();
  for (char& ch : extension) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  const bool jpeg = extension == ".jpg" || extension == ".jpeg";
  const int ok = jpeg ? stbi_write_jpg(path.c_str(), w, h, c, image.pixels.data(), 95)
                      : stbi_write_png(path.c_str(), w, h, c, image.pixels.data(), w * c);
  ASSERT_NE(ok, 0) << "cannot write " << path;
}

}  // namespace dml::test
