// Every input checked at the door, fast, with one line naming it: files that
// are not regular files (a directory, a FIFO, a device) given to any reader;
// image headers claiming more pixels than data.max_image_pixels; CSV
// manifests with a huge header, field or row count; the preflight of both
// splits before the first training step; held-out splits on which retrieval
// metrics mean nothing.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/regular_file.h"
#include "dml/data/csv_manifest.h"
#include "dml/data/idx.h"
#include "dml/data/image.h"
#include "dml/data/list_file.h"
#include "dml/data/mat_file.h"
#include "dml/train/config.h"
#include "dml/train/datasets.h"
#include "dml/train/evaluation.h"
#include "dml/train/preflight.h"
#include "dml/train/trainer.h"
#include "engine/npy.h"
#include "engine/safetensors.h"
#include "tests/support/e2e_support.h"
#include "tests/support/image_files.h"
#include "tests/support/test_support.h"

namespace {

namespace fs = std::filesystem;
using dml::Json;
using dml::test::expect_error;
using dml::test::TempDir;
using dml::test::write_text;

double seconds_of(const std::function<void()>& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

dml::train::TrainConfig default_config(const std::vector<std::string>& overrides = {}) {
  return dml::train::typed_config(dml::train::resolve_config(Json::object(), overrides, "test"));
}

// ---- Files that are not regular files -------------------------------------------------

// Each reader of a file the user names, with what its errors call the file.
struct Reader {
  const char* what;
  std::function<void(const std::string&)> read;
};

const std::vector<Reader>& readers() {
  static const std::vector<Reader> all = {
      {"image", [](const std::string& p) { dml::data::decode_image(p); }},
      {"image", [](const std::string& p) { dml::data::read_image_header(p); }},
      {"CSV manifest", [](const std::string& p) { dml::data::read_csv_manifest(p); }},
      {"config", [](const std::string& p) { dml::train::read_config_file(p); }},
      {".npy file", [](const std::string& p) { dml::read_npy(p); }},
      {"safetensors file", [](const std::string& p) { dml::train::load_checkpoint(p); }},
      {"IDX file", [](const std::string& p) { dml::data::read_idx(p); }},
      {"MAT file", [](const std::string& p) { dml::data::read_mat_file(p); }},
      {"list", [](const std::string& p) { dml::data::ListFile(p, "list"); }},
  };
  return all;
}

// Before: /dev/zero read until memory ran out, a FIFO without a writer
// blocked in open, a directory failed as "truncated" or "not valid JSON".
TEST(SpecialFiles, EveryReaderRefusesThemAtOnceByName) {
  TempDir dir;
  const std::string folder = dir.file("folder.png"), fifo = dir.file("fifo.png");
  fs::create_directories(folder);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  ::alarm(60);  // a reader that blocks on the FIFO fails the test rather than hanging CI
  for (const auto& [path, kind] : {std::pair{folder, "is a directory"},
                                   {fifo, "is a FIFO"},
                                   {std::string("/dev/zero"), "is a character device"}})
    for (const Reader& r : readers()) {
      SCOPED_TRACE(std::string(r.what) + " " + path);
      const double took = seconds_of([&] {
        expect_error([&] { r.read(path); }, {r.what, path, kind});
      });
      EXPECT_LT(took, 1.0);
    }
  ::alarm(0);
}

// Before: a listed image that was a directory "did not exist".
TEST(SpecialFiles, ListedImagesThatAreNotFilesSayWhatTheyAre) {
  TempDir dir;
  fs::create_directories(dir.file("folder.png"));
  ASSERT_EQ(::mkfifo(dir.file("fifo.png").c_str(), 0600), 0);
  const std::string manifest = dir.file("m.csv");
  for (const auto& [name, kind] : {std::pair{"folder.png", "is a directory, not an image"},
                                   {"fifo.png", "is not a regular file (a FIFO"},
                                   {"none.png", "does not exist"}}) {
    write_text(manifest, std::string("path,label\n") + name + ",1\n");
    expect_error([&] { dml::data::read_csv_manifest(manifest); },
                 {"image file " + dir.file(name), manifest + ":2", kind});
  }
}

TEST(SpecialFiles, RegularFileReadsAndNamesMissingFiles) {
  TempDir dir;
  write_text(dir.file("a.txt"), "hello");
  EXPECT_EQ(dml::read_regular_file(dir.file("a.txt"), "note"), "hello");
  expect_error([&] { dml::read_regular_file(dir.file("a.txt"), "note", "", 4); },
               {"note " + dir.file("a.txt"), "5 bytes, over the limit of 4"});
  expect_error([&] { dml::read_regular_file(dir.file("none"), "note", " (make it)"); },
               {"cannot open note " + dir.file("none"), "No such file", "(make it)"});
}

// A .npy file of `header` (version 1.0) and `data`.
void write_npy_bytes(const std::string& path, const std::string& header, const std::string& data) {
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes += char(header.size() & 0xFF);
  bytes += char(header.size() >> 8);
  write_text(path, bytes + header + data);
}

// Before: a dimension past 64 bits threw std::out_of_range (not one line), a
// claimed 400 GB shape was allocated before the size check, and a long
// header crashed the process (std::regex's recursion ran out of stack).
TEST(NpyHeaders, HostileShapesAndLongHeadersFailWithOneLine) {
  TempDir dir;
  const std::string path = dir.file("e.npy");
  auto header = [](const std::string& shape, const std::string& extra = "") {
    return "{'descr': '<f4', " + extra + "'fortran_order': False, 'shape': (" + shape + "), }";
  };
  write_npy_bytes(path, header("99999999999999999999,"), "abcd");
  expect_error([&] { dml::read_npy(path); }, {path, "'99999999999999999999' is not a 64-bit"});
  write_npy_bytes(path, header("100000000000,"), "abcd");
  expect_error([&] { dml::read_npy(path); }, {path, "holds 4 bytes", "need 400000000000"});
  write_npy_bytes(path, header("4294967296, 4294967296"), "abcd");
  expect_error([&] { dml::read_npy(path); }, {"need more than 2^64"});
  write_npy_bytes(path, header("4294967296, 0"), "");
  EXPECT_EQ(dml::read_npy(path).numel(), 0);
  write_npy_bytes(path, header("1,", std::string(60000, ' ')), "abcd");
  EXPECT_EQ(dml::read_npy(path).numel(), 1);
  write_npy_bytes(path, "{'descr': '<f4', " + std::string(60000, 'x'), "abcd");
  expect_error([&] { dml::read_npy(path); }, {path, "is not C-ordered with a dtype and shape"});
}

// ---- The pixel limit ------------------------------------------------------------------

// A PNG whose header claims width x height (stb_image checks no CRC).
std::string png_claiming(const TempDir& dir, const std::string& name, uint32_t width,
                         uint32_t height) {
  const std::string path = dir.file(name);
  dml::test::write_image(path, dml::test::pattern_image(8, 8, 3));
  std::string bytes = dml::test::read_text(path);
  for (int i = 0; i < 4; ++i) {
    bytes[size_t(16 + i)] = char(width >> (24 - 8 * i));
    bytes[size_t(20 + i)] = char(height >> (24 - 8 * i));
  }
  write_text(path, bytes);
  return path;
}

// Before: a header claiming 60000 x 60000 passed the existence check and
// failed when first drawn as "truncated"; a real one decoded into gigabytes.
TEST(PixelLimit, AHugeHeaderIsRefusedBeforeDecodingWithItsSizeAndTheKey) {
  TempDir dir;
  const std::string huge = png_claiming(dir, "huge.png", 60000, 60000);
  for (const auto& read : std::vector<std::function<void()>>{
           [&] { dml::data::decode_image(huge); }, [&] { dml::data::read_image_header(huge); }})
    expect_error(read, {"image " + huge, "60000 x 60000 = 3600000000 pixels", "limit of 50000000",
                        "data.max_image_pixels"});
  // A JPEG's frame header (after an EXIF-like segment) read the same way.
  const std::string jpeg = dir.file("huge.jpg");
  dml::test::write_image(jpeg, dml::test::pattern_image(8, 8, 3));
  std::string bytes = dml::test::read_text(jpeg);
  const size_t sof = bytes.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  bytes.replace(sof + 5, 4, "\xEA\x60\xEA\x60");  // height, width 60000
  bytes.insert(2, std::string("\xFF\xE1\x00\x10", 4) + std::string(14, 'x'));
  write_text(jpeg, bytes);
  expect_error([&] { dml::data::read_image_header(jpeg); },
               {"image " + jpeg, "60000 x 60000 = 3600000000 pixels", "data.max_image_pixels"});
  // The limit is the caller's: an 8 x 8 image passes 64 and fails 63.
  const std::string small = dir.file("small.png");
  dml::test::write_image(small, dml::test::pattern_image(8, 8, 3));
  EXPECT_EQ(dml::data::decode_image(small, 0, 64).width, 8);
  EXPECT_EQ(dml::data::read_image_header(small, 64).channels, 3);
  expect_error([&] { dml::data::decode_image(small, 0, 63); }, {"8 x 8 = 64", "limit of 63"});
}

// Before: a 2 x 400 strip (800 pixels) resized for evaluation to a shorter
// side of 64 became 64 x 12800; a 1 x 50000 one would take gigabytes.
TEST(PixelLimit, HoldsForTheImageAsResizedForTheModelToo) {
  TempDir dir;
  const std::string strip = dir.file("strip.png");
  dml::test::write_image(strip, dml::test::pattern_image(2, 400, 3));
  dml::data::SampleSet set{.name = "strips", .attribute_names = {}, .samples = {}, .pixels = {}};
  set.samples.push_back({.path = strip, .label = 0});
  const dml::train::TrainConfig c =
      default_config({"data.max_image_pixels=10000", "augment.resize=64", "augment.image_size=32",
                      "model.in_channels=3", "augment.mean=[0.5,0.5,0.5]",
                      "augment.std=[0.5,0.5,0.5]", "augment.random_resized_crop=true"});
  dml::Generator gen(0);
  expect_error([&] { dml::train::make_sample_loader(c, false)(set, set.samples[0], gen); },
               {"image " + strip, "2 x 400", "augment.resize = 64", "64 x 12800 = 819200",
                "limit of 10000"});
  dml::data::SampleSet held_out = set;
  expect_error([&] { dml::train::preflight_images(held_out, "held-out", c, false); },
               {"1 of 1 images of the held-out split", "64 x 12800"});
  // A random resized crop never resizes the whole strip.
  EXPECT_EQ(dml::train::make_sample_loader(c, true)(set, set.samples[0], gen).size(1), 32);
  EXPECT_EQ(dml::train::preflight_images(set, "train", c, true), 0);
}

TEST(PixelLimit, IsAConfigKeyWithTheDecodersDefault) {
  auto typed = [](const std::vector<std::string>& overrides) {
    return dml::train::typed_config(dml::train::resolve_config(Json::object(), overrides, "test"));
  };
  EXPECT_EQ(typed({}).data.max_image_pixels, dml::data::kDefaultMaxImagePixels);
  EXPECT_EQ(typed({"data.max_image_pixels=100"}).data.max_image_pixels, 100);
  expect_error([&] { typed({"data.max_image_pixels=0"}); }, {"data.max_image_pixels", ">= 1"});
}

// ---- CSV manifests of extreme shapes --------------------------------------------------

// Before: the duplicate-column check compared every name with every other
// (10^5 columns: 28 s, 1.6 GB).
TEST(CsvLimits, AMillionColumnHeaderReadsInLinearTime) {
  TempDir dir;
  constexpr int kColumns = 1'000'000;
  std::string header = "path,label", row = "a.png,1";
  for (int c = 0; c < kColumns; ++c) {
    header += ",c" + std::to_string(c);
    row += ",0";
  }
  const std::string manifest = dir.file("wide.csv");
  write_text(manifest, header + "\n" + row + "\n");
  dml::data::SampleSet set;
  EXPECT_LT(
      seconds_of([&] { set = dml::data::read_csv_manifest(manifest, {.check_files = false}); }),
      3.0);
  EXPECT_EQ(set.attribute_names.size(), size_t(kColumns));
  // The last column repeats an early one: still found, naming both.
  write_text(manifest, header + ",c7\n" + row + ",0\n");
  EXPECT_LT(seconds_of([&] {
              expect_error([&] { dml::data::read_csv_manifest(manifest, {.check_files = false}); },
                           {"column 'c7' is named twice (columns 10 and 1000003)"});
            }),
            3.0);
}

TEST(CsvLimits, HugeFieldsAndManyRowsReadQuickly) {
  TempDir dir;
  const std::string manifest = dir.file("m.csv");
  const std::string long_name(8 << 20, 'x');  // an 8 MiB path
  write_text(manifest, "path,label\n" + long_name + ",1\nb.png,2\n");
  EXPECT_LT(
      seconds_of([&] {
        EXPECT_EQ(
            dml::data::read_csv_manifest(manifest, {.check_files = false}).samples[0].path.size(),
            dir.file(long_name).size());
      }),
      3.0);
  std::string rows = "path,label,split\n";
  constexpr int kRows = 200'000;
  for (int i = 0; i < kRows; ++i)
    rows.append("i")
        .append(std::to_string(i))
        .append(".png,")
        .append(std::to_string(i % 100))
        .append(",train\n");
  write_text(manifest, rows);
  EXPECT_LT(seconds_of([&] {
              EXPECT_EQ(
                  dml::data::read_csv_manifest(manifest, {.check_files = false}).samples.size(),
                  size_t(kRows));
            }),
            3.0);
}

TEST(CsvLimits, AnEmptyColumnNameIsRefused) {
  TempDir dir;
  const std::string manifest = dir.file("m.csv");
  write_text(manifest, "path,label,\na.png,1,x\n");
  expect_error([&] { dml::data::read_csv_manifest(manifest, {.check_files = false}); },
               {manifest + ":1", "column 3 has no name"});
}

// ---- Encodings and spellings ---------------------------------------------------------

TEST(CsvEncodings, Utf16TextAndNulBytesAreRefusedUtf8BomSkippedEverywhere) {
  TempDir dir;
  const std::string manifest = dir.file("m.csv");
  write_text(manifest, std::string("\xFF\xFEp\0a\0t\0h\0", 10));
  expect_error([&] { dml::data::read_csv_manifest(manifest, {.check_files = false}); },
               {"CSV manifest " + manifest + " is UTF-16 text; save it as UTF-8"});
  write_text(manifest, std::string("path,label\na.png,1\0\n", 20));
  expect_error([&] { dml::data::read_csv_manifest(manifest, {.check_files = false}); },
               {"holds a NUL byte at offset 18", "save it as UTF-8"});
  // Whitespace lists (CUB, SOP, ...): the same refusal, and a BOM skipped.
  const std::string list = dir.file("images.txt");
  write_text(list, std::string("1\0 a.jpg\n", 9));
  expect_error([&] { dml::data::ListFile(list, "image list"); },
               {"image list " + list, "NUL byte"});
  write_text(list,
             "\xEF\xBB\xBF"
             "1 a.jpg\n");
  dml::data::ListFile bom(list, "image list");
  ASSERT_TRUE(bom.next());
  EXPECT_EQ(bom.integer(0, "image id"), 1);
}

// Before: a Latin-1 attribute name or value was read, and writing it into a
// JSON document (the audit, the class names) failed after training.
TEST(CsvEncodings, NonUtf8NamesAndValuesAreRefusedPathsMayHoldAnyBytes) {
  TempDir dir;
  const std::string manifest = dir.file("m.csv");
  auto read = [&] { return dml::data::read_csv_manifest(manifest, {.check_files = false}); };
  write_text(manifest, "path,label,t\xE9ne\na.png,1,dark\n");
  expect_error(read, {manifest + ":1", "name of column 3 ('t\\xE9ne') is not valid UTF-8"});
  write_text(manifest, "path,label,tone\na.png,1,dark\nb.png,2,caf\xE9\n");
  expect_error(read, {manifest + ":3", "column 'tone'", "not valid UTF-8 (at its byte 3)"});
  write_text(manifest, "path,label\na.png,\xC0\xAF\n");  // an overlong '/'
  expect_error(read, {manifest + ":2", "column 'label'", "not valid UTF-8"});
  write_text(manifest, "path,label,tone\ncaf\xE9.png,1,caf\xC3\xA9\n");
  EXPECT_EQ(read().samples[0].path, dir.file("caf\xE9.png"));
}

TEST(CsvEncodings, Utf8ValidationFollowsTheStandard) {
  using dml::data::first_invalid_utf8;
  constexpr size_t kValid = std::string::npos;
  EXPECT_EQ(first_invalid_utf8("plain"), kValid);
  EXPECT_EQ(first_invalid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), kValid);
  EXPECT_EQ(first_invalid_utf8("a\xE9"), 1u);             // Latin-1
  EXPECT_EQ(first_invalid_utf8("\xC0\xAF"), 0u);          // overlong
  EXPECT_EQ(first_invalid_utf8("\xED\xA0\x80"), 0u);      // a surrogate
  EXPECT_EQ(first_invalid_utf8("\xF4\x90\x80\x80"), 0u);  // past U+10FFFF
  EXPECT_EQ(first_invalid_utf8("ab\xE2\x82"), 2u);        // cut short
}

// Before: " 1", "+1", "1.0", "1e3", 2^64 or "NaN" among integers made the
// whole column text, each spelling a class of its own, codes renumbered.
TEST(CsvNumbers, IntegersSpelledOtherwiseAreRefusedNamingBothLines) {
  TempDir dir;
  const std::string manifest = dir.file("m.csv");
  auto read = [&] { return dml::data::read_csv_manifest(manifest, {.check_files = false}); };
  for (const std::string odd : {" 1", "+1", "1.0", "1e3", "18446744073709551616", "NaN"}) {
    SCOPED_TRACE(odd);
    write_text(manifest, "path,label,age\na.png,1,30\nb.png,\"" + odd + "\",41\n");
    expect_error(read, {manifest + ":3", "column 'label' holds '" + odd + "'",
                        "beside integers such as '1' (line 2)", "plain integer"});
  }
  // Negative integers, and text that is no number, are values like any other.
  write_text(manifest, "path,label,tone\na.png,-3,dark\nb.png,7,1\n");
  const dml::data::SampleSet set = read();
  EXPECT_EQ(set.samples[0].label, -3);
  EXPECT_EQ(set.samples[1].attributes[0], 0);  // "1" < "dark"
}

TEST(CsvNumbers, AHeaderWithoutPathOrLabelShowsItsNames) {
  TempDir dir;
  const std::string manifest = dir.file("m.csv");
  write_text(manifest, "Path, label\na.png,1\n");
  expect_error([&] { dml::data::read_csv_manifest(manifest, {.check_files = false}); },
               {"must name a 'path' and a 'label' column", "lower case, no spaces",
                "it names 'Path', ' label'"});
}

// Before: an object of 10^5 keys took 50 s to parse; /dev/zero read forever.
TEST(ConfigLimits, HugeConfigsAndObjectsOfThousandsOfKeysAreRefusedAtOnce) {
  TempDir dir;
  const std::string config = dir.file("c.json");
  std::string keys = "{\"loss\": {\"params\": {";
  for (int i = 0; i < 5000; ++i) keys += (i ? ",\"k" : "\"k") + std::to_string(i) + "\": 1";
  write_text(config, keys + "}}}");
  EXPECT_LT(seconds_of([&] {
              expect_error([&] { dml::train::read_config_file(config); },
                           {config + ":1:", "more than 1000 keys"});
            }),
            0.5);
  write_text(config, "{\"a\": \"" + std::string(2 << 20, 'x') + "\"}");
  expect_error([&] { dml::train::read_config_file(config); },
               {"config " + config, "over the limit of 1048576"});
}

// ---- The preflight --------------------------------------------------------------------

// A CSV run: `train` classes of two images each, a held-out split of classes
// 100 and 101 (two images each) unless `test_labels` says otherwise.
struct CsvRun {
  std::string manifest;
  std::vector<std::string> train_images, test_images;
};

CsvRun write_csv_run(const TempDir& dir, int train_classes, std::vector<int> test_labels) {
  CsvRun run{dir.file("set/m.csv"), {}, {}};
  std::string text = "path,label,split\n";
  int image = 0;
  auto add = [&](int label, const char* split, std::vector<std::string>& names) {
    const std::string name = "img" + std::to_string(image++) + ".png";
    dml::test::write_image(dir.file("set/" + name), dml::test::pattern_image(12, 12, 3, image));
    text += name + "," + std::to_string(label) + "," + split + "\n";
    names.push_back(dir.file("set/" + name));
  };
  for (int c = 0; c < train_classes; ++c)
    for (int i = 0; i < 2; ++i) add(c, "train", run.train_images);
  for (int label : test_labels) add(label, "test", run.test_images);
  write_text(run.manifest, text);
  return run;
}

Json csv_config(const TempDir& dir, const CsvRun& run, std::vector<std::string> settings = {}) {
  std::vector<std::string> all = dml::test::tiny_run_settings();
  all.insert(all.end(), {"data.format=csv", "data.root=" + run.manifest, "eval.clustering=false",
                         "train.output=" + dir.file("run")});
  all.insert(all.end(), settings.begin(), settings.end());
  return dml::train::resolve_config(Json::object(), all, "test");
}

// Before: a held-out image with a broken header was found by the evaluation
// after the last epoch, an over-sized one by the step that drew it.
TEST(Preflight, BadFilesOfEitherSplitStopTheRunBeforeItsFirstStep) {
  TempDir dir;
  const CsvRun run = write_csv_run(dir, 2, {100, 100, 101, 101});
  write_text(run.test_images[2], "not an image");
  write_text(run.test_images[3], "not an image either");
  expect_error([&] { dml::train::run_training(csv_config(dir, run)); },
               {"2 of 4 images of the held-out split cannot be used", "the first, sample 2",
                run.test_images[2], "data.skip_bad_images=true"});
  EXPECT_FALSE(fs::exists(dir.file("run/checkpoint.safetensors")));
  EXPECT_FALSE(fs::exists(dir.file("run/metrics.jsonl")));

  // A training image over the pixel limit (12 x 12 = 144 > 143).
  const CsvRun fresh = write_csv_run(dir, 2, {100, 100, 101, 101});
  expect_error(
      [&] { dml::train::run_training(csv_config(dir, fresh, {"data.max_image_pixels=143"})); },
      {"4 of 4 images of the train split", "sample 0", fresh.train_images[0], "limit of 143"});
}

TEST(Preflight, SkipBadImagesDropsThemWithACount) {
  TempDir dir;
  CsvRun run = write_csv_run(dir, 3, {100, 100, 100, 101, 101});
  write_text(run.train_images[5], "broken");  // class 2 keeps one image: skipped by the sampler
  write_text(run.test_images[0], "broken");
  const Json config = csv_config(dir, run, {"data.skip_bad_images=true"});
  const dml::train::TrainConfig c = dml::train::typed_config(config);
  dml::data::SampleSet train = dml::train::open_split(c.data, "train");
  EXPECT_EQ(dml::train::preflight_images(train, "train", c, true), 1);
  EXPECT_EQ(train.samples.size(), 5u);
  for (const auto& s : train.samples) EXPECT_NE(s.path, run.train_images[5]);
  EXPECT_EQ(dml::train::run_training(config)["epoch"], 1);
}

TEST(Preflight, TensOfThousandsOfHeadersTakeAboutASecond) {
  TempDir dir;
  const std::string first = dir.file("images/0.png");
  dml::test::write_image(first, dml::test::pattern_image(32, 32, 3));
  dml::data::SampleSet set{.name = "many", .attribute_names = {}, .samples = {}, .pixels = {}};
  constexpr int kImages = 20'000;
  for (int i = 0; i < kImages; ++i) {
    const std::string path = dir.file("images/" + std::to_string(i) + ".png");
    if (i > 0) fs::create_hard_link(first, path);
    set.samples.push_back({.path = path, .label = i % 10});
  }
  const dml::train::TrainConfig c = default_config();
  EXPECT_LT(seconds_of([&] { EXPECT_EQ(dml::train::preflight_images(set, "train", c, true), 0); }),
            5.0);
}

// ---- Held-out splits retrieval cannot score -------------------------------------------

dml::train::EvalData held_out_of(const std::vector<int64_t>& labels) {
  dml::train::EvalData data;
  data.queries.name = "held-out";
  for (int64_t label : labels) data.queries.samples.push_back({.path = "x.png", .label = label});
  return data;
}

// Before: one held-out class reported every metric as 1.0 without a word.
TEST(HeldOut, OneClassOrNoScorableQueryIsRefusedSingleImageClassesCounted) {
  expect_error(
      [&] {
        dml::train::check_evaluable(held_out_of({5, 5, 5}));
      },
      {"held-out holds 1 class", "at least 2", "meaningless 1.0", "eval.limit"});
  expect_error(
      [&] {
        dml::train::check_evaluable(held_out_of({1, 2, 3}));
      },
      {"no query of held-out has another image of its class", "NaN"});
  EXPECT_EQ(dml::train::check_evaluable(held_out_of({1, 1, 2, 3})), 2);
  EXPECT_EQ(dml::train::check_evaluable(held_out_of({1, 1, 2, 2})), 0);
  // Query/gallery: the gallery's classes count, and a query needs its class there.
  dml::train::EvalData inshop = held_out_of({1, 2});
  inshop.gallery = held_out_of({1}).queries;
  expect_error([&] { dml::train::check_evaluable(inshop); }, {"holds 1 class"});
  inshop.gallery = held_out_of({1, 2}).queries;
  EXPECT_EQ(dml::train::check_evaluable(inshop), 0);
}

TEST(HeldOut, ARunWithOneHeldOutClassFailsBeforeTraining) {
  TempDir dir;
  const CsvRun run = write_csv_run(dir, 2, {100, 100, 100});
  expect_error([&] { dml::train::run_training(csv_config(dir, run)); },
               {"csv:" + run.manifest + " test holds 1 class"});
  EXPECT_FALSE(fs::exists(dir.file("run/checkpoint.safetensors")));
}

TEST(Preflight, WarnsOfHeldOutClassesTrainingHasSeenOrWithOneImage) {
  dml::train::EvalData held_out = held_out_of({1, 1, 7, 7, 9});
  dml::data::SampleSet train = held_out_of({1, 1, 2, 2}).queries;
  for (auto* set : {&train, &held_out.queries})
    for (auto& s : set->samples) s.path.clear();  // in memory: no files to check
  testing::internal::CaptureStderr();
  dml::train::preflight_run(train, held_out, default_config());
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("1 held-out classes of held-out are also in the training split (first: "
                     "label 1)"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("1 held-out classes of held-out have a single image"), std::string::npos)
      << err;
}

// A manifest's rows of a third split (or a misspelt one) are read by
// neither of the run's splits: the preflight says so.
TEST(Preflight, WarnsOfManifestRowsInNeitherSplit) {
  TempDir dir;
  const std::string manifest = dir.file("m.csv");
  write_text(manifest,
             "path,label,split\na.png,1,train\nb.png,2,test\nc.png,3,val\nd.png,3,val\n"
             "e.png,4,tset\n");
  dml::train::EvalData held_out = held_out_of({7, 7, 9, 9});
  dml::data::SampleSet train = held_out_of({1, 1, 2, 2}).queries;
  for (auto* set : {&train, &held_out.queries})
    for (auto& s : set->samples) s.path.clear();  // in memory: no files to check
  dml::train::TrainConfig c = default_config();
  c.data.format = "csv";
  c.data.root = manifest;
  testing::internal::CaptureStderr();
  dml::train::preflight_run(train, held_out, c);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("3 rows of " + manifest +
                     " are in neither split: their split values 'tset' (1), 'val' (2) are not "
                     "data.train_split 'train' or data.test_split 'test'"),
            std::string::npos)
      << err;
  write_text(manifest, "path,label,split\na.png,1,train\nb.png,2,test\n");
  testing::internal::CaptureStderr();
  dml::train::preflight_run(train, held_out, c);
  EXPECT_EQ(testing::internal::GetCapturedStderr().find("neither split"), std::string::npos);
}

}  // namespace
