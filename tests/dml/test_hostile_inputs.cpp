// Hostile inputs the reader tests (test_safetensors, test_idx, test_datasets,
// test_transforms) do not already cover, each ending in one error line that
// names the file and the problem: images corrupt inside (not just cut
// short), manifests listing an image twice, training splits whose classes
// are too small for the sampler.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "dml/data/csv_manifest.h"
#include "dml/data/image.h"
#include "dml/train/config.h"
#include "dml/train/trainer.h"
#include "tests/support/e2e_support.h"
#include "tests/support/image_files.h"
#include "tests/support/test_support.h"

namespace {

using dml::test::expect_error;
using dml::test::TempDir;
using dml::test::write_text;
using Bytes = std::vector<unsigned char>;

Bytes bytes_of(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

void write_bytes(const std::string& path, const Bytes& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  ASSERT_TRUE(f.good()) << path;
}

void put_be32(Bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.at(at + size_t(i)) = uint8_t(v >> (24 - 8 * i));
}

// The offset of the first `marker` (0xFF, code) in a JPEG, or npos.
size_t jpeg_marker(const Bytes& b, uint8_t code) {
  for (size_t i = 0; i + 1 < b.size(); ++i)
    if (b[i] == 0xFF && b[i + 1] == code) return i;
  return std::string::npos;
}

// ---- Images corrupt inside ------------------------------------------------------------

TEST(HostileImages, CorruptPngNamesTheFile) {
  TempDir dir;
  const std::string good = dir.file("good.png");
  dml::test::write_image(good, dml::test::pattern_image(32, 32, 3));
  const Bytes png = bytes_of(good);

  // The compressed pixel data (after the 8-byte signature, the 25-byte IHDR
  // chunk and the IDAT chunk's length and type) overwritten.
  Bytes scrambled = png;
  for (size_t i = 8 + 25 + 8 + 2; i + 16 < scrambled.size(); ++i) scrambled[i] = 0xFF;
  const std::string bad_data = dir.file("bad_data.png");
  write_bytes(bad_data, scrambled);
  expect_error([&] { dml::data::decode_image(bad_data); },
               {"image " + bad_data, "cannot decode this PNG"});

  // A header claiming a 2^31 - 1 pixel wide image.
  Bytes huge = png;
  put_be32(huge, 16, 0x7FFFFFFF);
  const std::string bad_size = dir.file("huge.png");
  write_bytes(bad_size, huge);
  expect_error([&] { dml::data::decode_image(bad_size); },
               {"image " + bad_size, "cannot decode this PNG"});

  // Zero width.
  Bytes empty = png;
  put_be32(empty, 16, 0);
  const std::string zero = dir.file("zero.png");
  write_bytes(zero, empty);
  expect_error([&] { dml::data::decode_image(zero); }, {"image " + zero, "cannot decode this PNG"});
}

TEST(HostileImages, CorruptJpegNamesTheFile) {
  TempDir dir;
  const std::string good = dir.file("good.jpg");
  dml::test::write_image(good, dml::test::pattern_image(32, 32, 3));
  const Bytes jpg = bytes_of(good);
  const size_t sof = jpeg_marker(jpg, 0xC0);
  ASSERT_NE(sof, std::string::npos);

  // SOF0: marker, length (2), precision (1), height (2), width (2).
  Bytes zero = jpg;
  zero[sof + 7] = zero[sof + 8] = 0;
  const std::string zero_width = dir.file("zero_width.jpg");
  write_bytes(zero_width, zero);
  expect_error([&] { dml::data::decode_image(zero_width); },
               {"image " + zero_width, "cannot decode this JPEG"});

  Bytes precision = jpg;
  precision[sof + 4] = 12;  // 12-bit samples: not baseline
  const std::string twelve = dir.file("twelve_bit.jpg");
  write_bytes(twelve, precision);
  expect_error([&] { dml::data::decode_image(twelve); },
               {"image " + twelve, "cannot decode this JPEG"});

  // The Huffman tables' marker replaced: the scan cannot be decoded.
  Bytes no_tables = jpg;
  for (size_t at = jpeg_marker(no_tables, 0xC4); at != std::string::npos;
       at = jpeg_marker(no_tables, 0xC4))
    no_tables[at + 1] = 0xEF;  // an APP15 segment, skipped
  const std::string tables = dir.file("no_tables.jpg");
  write_bytes(tables, no_tables);
  expect_error([&] { dml::data::decode_image(tables); },
               {"image " + tables, "cannot decode this JPEG"});
}

// ---- Manifests and class sizes -------------------------------------------------------

TEST(HostileManifests, AnImageListedTwiceNamesBothLines) {
  TempDir dir;
  const std::string m = dir.file("m.csv");
  write_text(m, "path,label,split\na.png,1,train\nb.png,2,train\n./a.png,1,test\n");
  expect_error([&] { dml::data::read_csv_manifest(m, {.check_files = false}); },
               {"CSV manifest " + m + ":4", "image './a.png' is listed twice (first on line 2)"});
  write_text(m, "path,label\nimgs/a.png,1\nimgs/b.png,1\nimgs/a.png,2\n");
  expect_error([&] { dml::data::read_csv_manifest(m, {.check_files = false}); },
               {m + ":4", "'imgs/a.png' is listed twice (first on line 2)"});
}

// A CSV run whose training split has `per_class` images in each of its classes.
dml::Json csv_run(const TempDir& dir, const std::vector<int>& per_class) {
  const std::string manifest = dir.file("set/m.csv");
  std::string text = "path,label,split\n";
  int image = 0;
  for (size_t c = 0; c < per_class.size(); ++c)
    for (int i = 0; i < per_class[c]; ++i) {
      const std::string name = "img" + std::to_string(image++) + ".png";
      dml::test::write_image(dir.file("set/" + name), dml::test::pattern_image(12, 12, 3, image));
      text += name + "," + std::to_string(c) + ",train\n";
    }
  for (int i = 0; i < 4; ++i) {
    const std::string name = "test" + std::to_string(i) + ".png";
    dml::test::write_image(dir.file("set/" + name), dml::test::pattern_image(12, 12, 3, 50 + i));
    text += name + "," + std::to_string(100 + i / 2) + ",test\n";
  }
  write_text(manifest, text);
  std::vector<std::string> settings = dml::test::tiny_run_settings();
  settings.insert(settings.end(), {"data.format=csv", "data.root=" + manifest,
                                   "eval.clustering=false", "train.output=" + dir.file("run")});
  return dml::train::resolve_config(dml::Json::object(), settings, "test");
}

TEST(HostileManifests, ClassesTooSmallForTheSamplerNameTheDataset) {
  TempDir dir;
  const std::string manifest = dir.file("set/m.csv");
  // Every class with one image (m = 2): none can fill its share of a batch.
  expect_error(
      [&] {
        dml::train::run_training(csv_run(dir, {1, 1, 1, 1}));
      },
      {"csv:" + manifest + " train", "needs 2 classes with >= 2 images, but there are 0"});
  // One class large enough, one with a single image: still one class short.
  expect_error(
      [&] {
        dml::train::run_training(csv_run(dir, {3, 1}));
      },
      {"csv:" + manifest + " train", "but there are 1"});
  // Two classes large enough: the single-image class is skipped and counted.
  const dml::Json metrics = dml::train::run_training(csv_run(dir, {2, 1, 2}));
  EXPECT_EQ(metrics["epoch"], 1);
}

// ---- Configs --------------------------------------------------------------------------

// Found while writing fuzz/fuzz_config: wrongly typed array elements and non-UTF-8
// override values escaped as JSON library exceptions instead of one line
// naming the key.
TEST(HostileConfigs, ArrayElementsAndNonUtf8ValuesNameTheKey) {
  auto typed = [](const std::vector<std::string>& overrides) {
    dml::train::typed_config(dml::train::resolve_config(dml::Json::object(), overrides, "test"));
  };
  expect_error([&] { typed({"eval.recall_ks=[1,\"x\"]"}); },
               {"eval.recall_ks: every element must be an integer, got \"x\""});
  expect_error([&] { typed({"data.train_classes=[0.5]"}); },
               {"data.train_classes: every element must be an integer, got 0.5"});
  expect_error([&] { typed({"augment.mean=[[0.5]]"}); },
               {"augment.mean: every element must be a number"});
  expect_error([&] { typed({"data.attributes=[1]"}); },
               {"data.attributes: every element must be a string, got 1"});
  expect_error([&] { typed({"data.root=/data/caf\xe9"}); },
               {"override 'data.root=...': not valid UTF-8"});
}

}  // namespace
