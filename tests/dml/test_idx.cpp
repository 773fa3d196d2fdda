// The IDX reader and the Fashion-MNIST loader on small files written here:
// good files read back exactly, plain or gzip; every kind of damage throws a
// dml::Error whose message names the file.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "base/error.h"
#include "dml/data/fashion_mnist.h"
#include "dml/data/idx.h"
#include "engine/allocator.h"
#include "tests/support/test_support.h"

namespace {

namespace fs = std::filesystem;
using dml::test::Bytes;
using dml::test::TempDir;
using dml::test::write_plain;

void put_be32(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<unsigned char>(v >> shift));
}

// Header (magic, sizes) followed by `data`; sizes may lie about the data.
Bytes idx_bytes(uint32_t magic, const std::vector<uint32_t>& sizes, const Bytes& data) {
  Bytes out;
  put_be32(out, magic);
  for (uint32_t s : sizes) put_be32(out, s);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes pattern(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<unsigned char>((i * 37 + 11) % 256);
  return b;
}

void write_gzip(const std::string& path, const Bytes& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  ASSERT_EQ(gzwrite(f, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

Bytes read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

// Runs read_idx and returns the dml::Error message; fails if nothing throws.
std::string idx_error(const std::string& path) {
  try {
    dml::data::read_idx(path);
  } catch (const dml::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "read_idx(" << path << ") did not throw";
  return "";
}

#define EXPECT_NAMES(message, path, fragment)                                 \
  do {                                                                        \
    const std::string msg_ = (message);                                       \
    EXPECT_NE(msg_.find(path), std::string::npos) << "message: " << msg_;     \
    EXPECT_NE(msg_.find(fragment), std::string::npos) << "message: " << msg_; \
  } while (0)

constexpr uint32_t kImages = dml::data::kIdxImagesMagic;
constexpr uint32_t kLabels = dml::data::kIdxLabelsMagic;

}  // namespace

TEST(Idx, PlainImagesReadBackExactly) {
  TempDir dir;
  const std::string path = dir.file("images-idx3-ubyte");
  const Bytes data = pattern(3 * 4 * 5);
  write_plain(path, idx_bytes(kImages, {3, 4, 5}, data));
  dml::data::IdxArray a = dml::data::read_idx(path);
  EXPECT_EQ(a.path, path);
  EXPECT_EQ(a.values.dtype(), dml::DType::u8);
  EXPECT_EQ(a.values.shape(), (dml::Shape{3, 4, 5}));
  EXPECT_EQ(a.values.to_vector<uint8_t>(), std::vector<uint8_t>(data.begin(), data.end()));
}

TEST(Idx, GzipLabelsReadBackExactly) {
  TempDir dir;
  const std::string path = dir.file("labels-idx1-ubyte.gz");
  const Bytes data = {0, 9, 3, 3, 7, 1};
  write_gzip(path, idx_bytes(kLabels, {6}, data));
  dml::data::IdxArray a = dml::data::read_idx_labels(path);
  EXPECT_EQ(a.values.shape(), (dml::Shape{6}));
  EXPECT_EQ(a.values.to_vector<uint8_t>(), std::vector<uint8_t>(data.begin(), data.end()));
}

TEST(Idx, GzipAndPlainAgree) {
  TempDir dir;
  const Bytes file = idx_bytes(kImages, {2, 28, 28}, pattern(2 * 28 * 28));
  write_plain(dir.file("a"), file);
  write_gzip(dir.file("a.gz"), file);
  EXPECT_EQ(dml::data::read_idx(dir.file("a")).values.to_vector<uint8_t>(),
            dml::data::read_idx(dir.file("a.gz")).values.to_vector<uint8_t>());
}

TEST(Idx, KindChecksRejectTheOtherKind) {
  TempDir dir;
  const std::string labels = dir.file("labels");
  write_plain(labels, idx_bytes(kLabels, {4}, pattern(4)));
  try {
    dml::data::read_idx_images(labels);
    ADD_FAILURE() << "a label file was accepted as images";
  } catch (const dml::Error& e) {
    EXPECT_NAMES(e.what(), labels, "expected images");
  }
}

TEST(Idx, MissingFileThrowsNamingIt) {
  TempDir dir;
  const std::string path = dir.file("absent.gz");
  EXPECT_NAMES(idx_error(path), path, "cannot open");
}

TEST(Idx, WrongMagicThrows) {
  TempDir dir;
  const std::string path = dir.file("floats");
  write_plain(path, idx_bytes(0x00000D03, {1, 2, 2}, pattern(16)));  // f32 type code
  EXPECT_NAMES(idx_error(path), path, "bad magic");
  const std::string text = dir.file("text");
  write_plain(text, Bytes{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'});
  EXPECT_NAMES(idx_error(text), text, "bad magic");
}

TEST(Idx, TruncatedHeaderThrows) {
  TempDir dir;
  const std::string empty = dir.file("empty");
  write_plain(empty, {});
  EXPECT_NAMES(idx_error(empty), empty, "truncated");
  const std::string half = dir.file("half");
  Bytes header = idx_bytes(kImages, {3, 4, 5}, {});
  header.resize(9);  // magic, one size and a byte of the next
  write_plain(half, header);
  EXPECT_NAMES(idx_error(half), half, "truncated");
}

TEST(Idx, TruncatedDataThrows) {
  TempDir dir;
  Bytes file = idx_bytes(kImages, {3, 4, 5}, pattern(60));
  file.pop_back();
  const std::string plain = dir.file("cut");
  write_plain(plain, file);
  EXPECT_NAMES(idx_error(plain), plain, "truncated");
  const std::string gz = dir.file("cut.gz");
  write_gzip(gz, file);
  EXPECT_NAMES(idx_error(gz), gz, "truncated");
}

TEST(Idx, SizeHeaderPromisingMoreThanTheFileThrows) {
  TempDir dir;
  const std::string path = dir.file("liar");
  write_plain(path, idx_bytes(kLabels, {1000}, pattern(10)));
  EXPECT_NAMES(idx_error(path), path, "promises 1000 data bytes");
}

TEST(Idx, AbsurdSizesThrowBeforeAllocating) {
  TempDir dir;
  const std::string huge = dir.file("huge");
  write_plain(huge, idx_bytes(kImages, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, pattern(8)));
  EXPECT_NAMES(idx_error(huge), huge, "header is corrupt");
  const std::string zero = dir.file("zero");
  write_plain(zero, idx_bytes(kImages, {5, 0, 28}, {}));
  EXPECT_NAMES(idx_error(zero), zero, "size 0");
}

// A header is only a promise: a 1.8 GB claim in a file of a few dozen bytes
// must fail on the missing data without first allocating a tensor of the
// promised size (the reader grows a buffer as bytes arrive and makes the
// tensor only once the data is complete).
TEST(Idx, LyingSizeHeaderAllocatesNothingOfThePromisedSize) {
  TempDir dir;
  const std::string gz = dir.file("liar.gz");
  write_gzip(gz, idx_bytes(kImages, {60000, 100, 300}, pattern(64)));
  dml::reset_cpu_peak();
  EXPECT_NAMES(idx_error(gz), gz, "truncated");
  EXPECT_LT(dml::cpu_memory_stats().peak_bytes_in_use, size_t(64) << 20);
}

TEST(Idx, TrailingBytesThrow) {
  TempDir dir;
  const std::string path = dir.file("long");
  write_plain(path, idx_bytes(kLabels, {4}, pattern(5)));
  EXPECT_NAMES(idx_error(path), path, "more bytes");
}

TEST(Idx, CorruptGzipStreamThrows) {
  TempDir dir;
  const Bytes file = idx_bytes(kImages, {4, 8, 8}, pattern(4 * 8 * 8));
  const std::string good = dir.file("good.gz");
  write_gzip(good, file);
  const Bytes gz = read_all(good);
  ASSERT_GT(gz.size(), 20u);

  // Deflate body overwritten: the first block header becomes invalid.
  Bytes body = gz;
  for (size_t i = 10; i + 8 < body.size(); ++i) body[i] = 0xFF;
  const std::string bad_body = dir.file("bad_body.gz");
  write_plain(bad_body, body);
  EXPECT_NAMES(idx_error(bad_body), bad_body, "corrupt gzip stream");

  // Data intact but the CRC in the trailer wrong: caught after the last byte.
  Bytes crc = gz;
  crc[crc.size() - 8] ^= 0x5A;
  const std::string bad_crc = dir.file("bad_crc.gz");
  write_plain(bad_crc, crc);
  EXPECT_NAMES(idx_error(bad_crc), bad_crc, "corrupt gzip stream");

  // The compressed stream cut short.
  Bytes cut(gz.begin(), gz.begin() + std::ptrdiff_t(gz.size() / 2));
  const std::string short_gz = dir.file("short.gz");
  write_plain(short_gz, cut);
  EXPECT_NAMES(idx_error(short_gz), short_gz, "corrupt gzip stream");
}

// A directory laid out like the Fashion-MNIST download, with two 28x28 images.
TEST(FashionMnist, LoadsASplitAsFloatImagesAndI64Labels) {
  TempDir dir;
  Bytes pixels(2 * 28 * 28, 0);
  pixels[0] = 255;
  pixels[28 * 28 + 5] = 51;
  write_gzip(dir.file("t10k-images-idx3-ubyte.gz"), idx_bytes(kImages, {2, 28, 28}, pixels));
  write_plain(dir.file("t10k-labels-idx1-ubyte"), idx_bytes(kLabels, {2}, {9, 4}));

  dml::data::ImageDataset raw =
      dml::data::load_fashion_mnist(dir.file(""), dml::data::Split::test, {.normalize = false});
  EXPECT_EQ(raw.images.dtype(), dml::DType::f32);
  EXPECT_EQ(raw.images.shape(), (dml::Shape{2, 1, 28, 28}));
  std::vector<float> v = raw.images.to_vector<float>();
  EXPECT_FLOAT_EQ(v[0], 1.0f);
  EXPECT_FLOAT_EQ(v[1], 0.0f);
  EXPECT_FLOAT_EQ(v[28 * 28 + 5], 0.2f);
  EXPECT_EQ(raw.labels.to_vector<int64_t>(), (std::vector<int64_t>{9, 4}));

  dml::data::ImageDataset norm =
      dml::data::load_fashion_mnist(dir.file(""), dml::data::Split::test, {.limit = 1});
  EXPECT_EQ(norm.images.shape(), (dml::Shape{1, 1, 28, 28}));
  EXPECT_NEAR(norm.images.to_vector<float>()[1], -0.2860 / 0.3530, 1e-6);
  EXPECT_EQ(norm.labels.to_vector<int64_t>(), (std::vector<int64_t>{9}));
}

TEST(FashionMnist, MismatchedCountsAndBadLabelsThrow) {
  TempDir dir;
  write_plain(dir.file("train-images-idx3-ubyte"), idx_bytes(kImages, {2, 28, 28}, pattern(1568)));
  const std::string labels = dir.file("train-labels-idx1-ubyte");
  write_plain(labels, idx_bytes(kLabels, {3}, {1, 2, 3}));
  EXPECT_THROW(dml::data::load_fashion_mnist(dir.file(""), dml::data::Split::train), dml::Error);
  write_plain(labels, idx_bytes(kLabels, {2}, {1, 10}));
  try {
    dml::data::load_fashion_mnist(dir.file(""), dml::data::Split::train);
    ADD_FAILURE() << "label 10 was accepted";
  } catch (const dml::Error& e) {
    EXPECT_NAMES(e.what(), labels, "label 10");
  }
}

TEST(FashionMnist, MissingDirectoryNamesTheFile) {
  try {
    dml::data::load_fashion_mnist("/nonexistent/fashion", dml::data::Split::train);
    ADD_FAILURE() << "a missing directory was accepted";
  } catch (const dml::Error& e) {
    EXPECT_NAMES(e.what(), "/nonexistent/fashion/train-images-idx3-ubyte.gz", "cannot open");
  }
}
