// Image decoding (stb_image) and the transforms. Decoding: PNGs written here
// read back exactly in every channel layout, JPEGs closely, and damaged or
// missing files throw naming the file. Transforms: each deterministic step and
// the eval pipeline match torchvision 0.14 on the fixtures written by
// tests/golden/make_transforms_golden.py; the random steps are checked for
// their invariants and for depending only on the generator.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "dml/data/image.h"
#include "dml/data/transforms.h"
#include "tests/support/fixture.h"
#include "tests/support/image_files.h"
#include "tests/support/test_support.h"

namespace {

namespace data = dml::data;
using data::Image;
using dml::test::expect_error;
using dml::test::pattern_image;
using dml::test::TempDir;
using dml::test::write_image;
using nlohmann::json;

// ---- decoding ----

// A smooth image, which JPEG keeps close.
Image gradient(int64_t h, int64_t w) {
  Image image{h, w, 3, {}};
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t c = 0; c < 3; ++c) image.pixels.push_back(uint8_t(40 + 8 * x + 5 * y + 30 * c));
  return image;
}

TEST(DecodeImage, PngReadsBackExactlyInEveryLayout) {
  TempDir dir;
  const Image rgb = pattern_image(4, 5, 3), grey = pattern_image(3, 2, 1, 7);
  write_image(dir.file("rgb.png"), rgb);
  write_image(dir.file("grey.png"), grey);
  const Image as_stored = data::decode_image(dir.file("rgb.png"));
  EXPECT_EQ(std::tie(as_stored.height, as_stored.width, as_stored.channels),
            std::make_tuple(int64_t(4), int64_t(5), int64_t(3)));
  EXPECT_EQ(as_stored.pixels, rgb.pixels);
  EXPECT_EQ(data::decode_image(dir.file("grey.png")).pixels, grey.pixels);
  EXPECT_EQ(data::decode_image(dir.file("grey.png"), 1).channels, 1);
  // Forced layouts: stb's own conversions agree with convert_channels.
  EXPECT_EQ(data::decode_image(dir.file("grey.png"), 3).pixels,
            data::convert_channels(grey, 3).pixels);
  EXPECT_EQ(data::decode_image(dir.file("rgb.png"), 1).pixels,
            data::convert_channels(rgb, 1).pixels);

  // Alpha is dropped: RGBA -> RGB, grey + alpha -> grey.
  const Image rgba = pattern_image(3, 3, 4, 2), grey_alpha = pattern_image(2, 3, 2, 3);
  write_image(dir.file("rgba.png"), rgba);
  write_image(dir.file("ga.png"), grey_alpha);
  const Image no_alpha = data::decode_image(dir.file("rgba.png"));
  ASSERT_EQ(no_alpha.channels, 3);
  for (int64_t i = 0; i < 9; ++i)
    for (int64_t c = 0; c < 3; ++c)
      EXPECT_EQ(no_alpha.pixels[size_t(3 * i + c)], rgba.pixels[size_t(4 * i + c)]);
  const Image ga = data::decode_image(dir.file("ga.png"));
  ASSERT_EQ(ga.channels, 1);
  for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(ga.pixels[size_t(i)], grey_alpha.pixels[size_t(2 * i)]);
}

TEST(DecodeImage, JpegDecodesClose) {
  TempDir dir;
  const Image source = gradient(16, 24);
  write_image(dir.file("a.jpg"), source);
  const Image back = data::decode_image(dir.file("a.jpg"));
  ASSERT_EQ(std::tie(back.height, back.width, back.channels),
            std::make_tuple(int64_t(16), int64_t(24), int64_t(3)));
  int worst = 0, total = 0;
  for (size_t i = 0; i < source.pixels.size(); ++i) {
    const int error = std::abs(int(back.pixels[i]) - int(source.pixels[i]));
    worst = std::max(worst, error);
    total += error;
  }
  EXPECT_LE(worst, 20);
  EXPECT_LT(double(total) / double(source.pixels.size()), 3.0);
  // The sample path of image_of decodes the same file.
  data::SampleSet set;
  data::Sample s;
  s.path = dir.file("a.jpg");
  EXPECT_EQ(data::image_of(set, s).pixels, back.pixels);
}

std::vector<unsigned char> bytes_of(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

TEST(DecodeImage, DamagedAndMissingFilesNameTheFile) {
  TempDir dir;
  write_image(dir.file("a.png"), pattern_image(16, 16, 3));
  write_image(dir.file("a.jpg"), gradient(32, 32));
  for (const char* name : {"a.png", "a.jpg"}) {
    const std::vector<unsigned char> full = bytes_of(dir.file(name));
    const std::string cut = dir.file(std::string("cut_") + name);
    dml::test::write_plain(cut, {full.begin(), full.begin() + std::ptrdiff_t(full.size() / 2)});
    expect_error(
        [&] { data::decode_image(cut); },
        {"image " + cut, std::string("cannot decode this ") + (name[2] == 'p' ? "PNG" : "JPEG"),
         "stb_image: "});
  }
  dml::test::write_plain(dir.file("text.png"), {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm'});
  expect_error([&] { data::decode_image(dir.file("text.png")); },
               {"image " + dir.file("text.png"), "cannot decode this image"});
  dml::test::write_plain(dir.file("empty.jpg"), {});
  expect_error([&] { data::decode_image(dir.file("empty.jpg")); }, {"is an empty file"});
  expect_error([&] { data::decode_image(dir.file("absent.jpg")); },
               {"cannot open image " + dir.file("absent.jpg"), "No such file"});
  expect_error([&] { data::decode_image(dir.file("a.png"), 4); }, {"channels = 4"});
}

// ---- torchvision parity ----

const json& golden() {
  static const json j = dml::test::load_fixture("transforms.json");
  return j;
}

Image image_from(const json& j) {
  const std::vector<int64_t> shape = j.at("shape").get<std::vector<int64_t>>();
  return Image{shape[0], shape[1], shape[2], j.at("data").get<std::vector<uint8_t>>()};
}

void expect_image(const Image& got, const json& want, const std::string& what) {
  const Image w = image_from(want);
  ASSERT_EQ(std::tie(got.height, got.width, got.channels), std::tie(w.height, w.width, w.channels))
      << what;
  EXPECT_EQ(got.pixels, w.pixels) << what;
}

void expect_tensor(const dml::Tensor& got, const json& want, const std::string& what) {
  ASSERT_EQ(got.shape(), want.at("shape").get<dml::Shape>()) << what;
  const std::vector<float> g = got.to_vector<float>();
  const std::vector<double> w = want.at("data").get<std::vector<double>>();
  for (size_t i = 0; i < g.size(); ++i) ASSERT_NEAR(g[i], w[i], 1e-6) << what << " element " << i;
}

TEST(TorchvisionParity, ResizeBilinearWithoutAntialias) {
  for (const json& c : golden().at("resize")) {
    const std::vector<int64_t> size = c.at("size").get<std::vector<int64_t>>();
    expect_image(data::resize(image_from(c.at("input")), size[0], size[1]), c.at("output"),
                 c.at("input").at("shape").dump() + " -> " + c.at("size").dump());
  }
}

TEST(TorchvisionParity, ResizeShorterSide) {
  for (const json& c : golden().at("resize_shorter"))
    expect_image(data::resize_shorter(image_from(c.at("input")), c.at("size").get<int64_t>()),
                 c.at("output"), c.at("input").at("shape").dump());
}

TEST(TorchvisionParity, CenterCropRoundsHalfToEvenAndPads) {
  for (const json& c : golden().at("center_crop")) {
    const std::vector<int64_t> size = c.at("size").get<std::vector<int64_t>>();
    expect_image(data::center_crop(image_from(c.at("input")), size[0], size[1]), c.at("output"),
                 c.at("input").at("shape").dump() + " crop " + c.at("size").dump());
  }
}

TEST(TorchvisionParity, HorizontalFlip) {
  for (const json& c : golden().at("hflip"))
    expect_image(data::horizontal_flip(image_from(c.at("input"))), c.at("output"), "hflip");
}

TEST(TorchvisionParity, ToTensorAndNormalize) {
  for (const json& c : golden().at("to_tensor"))
    expect_tensor(data::to_tensor(image_from(c.at("input")), c.at("mean"), c.at("std")),
                  c.at("output"), "mean " + c.at("mean").dump());
}

TEST(TorchvisionParity, ResizedCrop) {
  for (const json& c : golden().at("resized_crop")) {
    const std::vector<int64_t> b = c.at("box").get<std::vector<int64_t>>();
    const int64_t size = c.at("size");
    const Image cropped = data::crop(image_from(c.at("input")), {b[0], b[1], b[2], b[3]});
    expect_image(data::resize(cropped, size, size), c.at("output"), c.at("box").dump());
  }
}

TEST(TorchvisionParity, EvalPipeline) {
  for (const json& c : golden().at("eval")) {
    data::TransformConfig config;
    config.resize = c.at("resize");
    config.image_size = c.at("size");
    expect_tensor(data::transform_eval(image_from(c.at("input")), config), c.at("output"),
                  c.at("input").at("shape").dump());
  }
}

TEST(TorchvisionParity, RandomResizedCropFallback) {
  // A scale above 1 never fits, so every try misses and the fallback decides.
  for (const json& c : golden().at("rrc_fallback")) {
    data::TransformConfig config;
    config.scale_min = config.scale_max = 2.0;
    const std::vector<double> ratio = c.at("ratio").get<std::vector<double>>();
    config.ratio_min = ratio[0];
    config.ratio_max = ratio[1];
    dml::Generator gen(7);
    const data::CropBox b =
        data::random_resized_crop_box(c.at("height"), c.at("width"), config, gen);
    EXPECT_EQ((std::vector<int64_t>{b.top, b.left, b.height, b.width}),
              c.at("box").get<std::vector<int64_t>>())
        << c.dump();
  }
}

// ---- randomness ----

TEST(RandomResizedCrop, BoxesFitAndFollowTheGenerator) {
  const data::TransformConfig config;
  std::set<std::tuple<int64_t, int64_t, int64_t, int64_t>> distinct;
  const int draws = 2000;
  for (int seed = 0; seed < draws; ++seed) {
    dml::Generator gen{uint64_t(seed)};
    const data::CropBox b = data::random_resized_crop_box(60, 90, config, gen);
    EXPECT_EQ(gen.state().offset, 11u);  // a fixed budget of counters
    ASSERT_GE(b.top, 0);
    ASSERT_GE(b.left, 0);
    ASSERT_GT(b.height, 0);
    ASSERT_GT(b.width, 0);
    ASSERT_LE(b.top + b.height, 60);
    ASSERT_LE(b.left + b.width, 90);
    distinct.insert({b.top, b.left, b.height, b.width});
    dml::Generator again{uint64_t(seed)};
    const data::CropBox b2 = data::random_resized_crop_box(60, 90, config, again);
    EXPECT_EQ(std::tie(b.top, b.left, b.height, b.width),
              std::tie(b2.top, b2.left, b2.height, b2.width));
  }
  EXPECT_GT(distinct.size(), size_t(draws * 9 / 10));
}

// Our generator is not torch's, so the boxes differ draw by draw; their
// distribution must be torchvision's. Moments over 20000 draws (one seeded
// generator per draw, as the loader gives each sample) against 20000 draws
// of torchvision's get_params, within 5 standard errors of the difference.
TEST(RandomResizedCrop, DistributionMatchesTorchvision) {
  const data::TransformConfig config;
  for (const json& c : golden().at("rrc_statistics")) {
    const int64_t h = c.at("height"), w = c.at("width"), n = c.at("draws");
    std::vector<double> area, log_ratio, center_y, center_x;
    for (int64_t seed = 0; seed < n; ++seed) {
      dml::Generator gen{uint64_t(seed) + 1000};
      const data::CropBox b = data::random_resized_crop_box(h, w, config, gen);
      area.push_back(double(b.height * b.width) / double(h * w));
      log_ratio.push_back(std::log(double(b.width) / double(b.height)));
      center_y.push_back((double(b.top) + double(b.height) / 2) / double(h));
      center_x.push_back((double(b.left) + double(b.width) / 2) / double(w));
    }
    auto check = [&](const std::vector<double>& v, const char* name) {
      double mean = 0, var = 0;
      for (double x : v) mean += x / double(v.size());
      for (double x : v) var += (x - mean) * (x - mean) / double(v.size() - 1);
      const double tolerance = 5 * std::sqrt(2 * var / double(v.size()));
      EXPECT_NEAR(mean, c.at(name).get<double>(), tolerance) << name << " for " << h << "x" << w;
    };
    check(area, "area");
    check(log_ratio, "log_ratio");
    check(center_y, "center_y");
    check(center_x, "center_x");
  }
}

TEST(TransformTrain, FlipIsACoinAndGeometryFollowsTheConfig) {
  const Image image = pattern_image(12, 10, 3);
  data::TransformConfig config;
  config.random_resized_crop = false;
  config.resize = 8;
  config.image_size = 6;
  const std::vector<float> plain = data::transform_eval(image, config).to_vector<float>();
  const std::vector<float> flipped =
      data::to_tensor(
          data::horizontal_flip(data::center_crop(data::resize_shorter(image, 8), 6, 6)),
          config.mean, config.std)
          .to_vector<float>();
  ASSERT_NE(plain, flipped);
  int flips = 0;
  for (int seed = 0; seed < 400; ++seed) {
    dml::Generator gen{uint64_t(seed)};
    const std::vector<float> out = data::transform_train(image, config, gen).to_vector<float>();
    ASSERT_TRUE(out == plain || out == flipped) << "seed " << seed;
    flips += out == flipped;
  }
  EXPECT_NEAR(flips, 200, 40);

  config.random_resized_crop = true;
  dml::Generator a(99), b(99), c(100);
  const dml::Tensor ta = data::transform_train(image, config, a);
  EXPECT_EQ(ta.shape(), (dml::Shape{3, 6, 6}));
  EXPECT_EQ(ta.to_vector<float>(), data::transform_train(image, config, b).to_vector<float>());
  EXPECT_NE(ta.to_vector<float>(), data::transform_train(image, config, c).to_vector<float>());
}

// ---- boxes, channels, configuration errors ----

TEST(Transforms, CropToBoxRoundsAndClamps) {
  const Image image = pattern_image(10, 12, 1);
  const Image box = data::crop_to_box(image, {2.5f, 1.4f, 4.0f, 3.2f});
  // Edges: left round(2.5) = 2, top round(1.4) = 1, right round(6.5) = 6, bottom round(4.6) = 5.
  ASSERT_EQ(std::tie(box.height, box.width), std::make_tuple(int64_t(4), int64_t(4)));
  EXPECT_EQ(box.at(0, 0, 0), image.at(1, 2, 0));
  EXPECT_EQ(box.at(3, 3, 0), image.at(4, 5, 0));
  const Image clamped = data::crop_to_box(image, {-3, 8, 100, 100});
  EXPECT_EQ(std::tie(clamped.height, clamped.width), std::make_tuple(int64_t(2), int64_t(12)));
  expect_error([&] { data::crop_to_box(image, {20, 0, 5, 5}); }, {"holds no pixel of the 12x10"});

  data::TransformConfig config;
  config.crop_to_box = true;
  config.resize = 4;
  config.image_size = 4;
  expect_error([&] { data::transform_eval(image, config); }, {"crop_to_box is set but"});
  const dml::Tensor t = data::transform_eval(image, config, data::BoundingBox{2, 1, 4, 4});
  EXPECT_EQ(t.shape(), (dml::Shape{3, 4, 4}));
  // A 4x4 box resized to 4x4 and center-cropped to 4x4 is the box itself.
  const float expect = (float(image.at(1, 2, 0)) / 255.0f - 0.456f) / 0.224f;
  EXPECT_FLOAT_EQ(t.to_vector<float>()[16], expect);  // channel 1, pixel (0, 0)
}

TEST(Transforms, ChannelsAndNormalizationOptions) {
  const Image grey = pattern_image(5, 5, 1);
  data::TransformConfig config;
  config.resize = 5;
  config.image_size = 5;
  const dml::Tensor rgb = data::transform_eval(grey, config);
  EXPECT_EQ(rgb.shape(), (dml::Shape{3, 5, 5}));
  config.to_rgb = false;
  expect_error([&] { data::transform_eval(grey, config); },
               {"mean has 3 values for an image of 1 channels"});
  config.mean = {0.5f};
  config.std = {0.25f};
  const std::vector<float> one = data::transform_eval(grey, config).to_vector<float>();
  ASSERT_EQ(one.size(), 25u);
  EXPECT_FLOAT_EQ(one[7], (float(grey.pixels[7]) / 255.0f - 0.5f) / 0.25f);
  config.mean.clear();
  config.std.clear();
  EXPECT_FLOAT_EQ(data::transform_eval(grey, config).to_vector<float>()[7],
                  float(grey.pixels[7]) / 255.0f);
  config.image_size = 0;
  expect_error([&] { data::transform_eval(grey, config); }, {"image_size = 0"});
  data::TransformConfig bad_scale;
  bad_scale.scale_min = 0.9;
  bad_scale.scale_max = 0.5;
  dml::Generator gen(1);
  expect_error([&] { data::transform_train(grey, bad_scale, gen); }, {"scale range [0.9, 0.5]"});
}

TEST(Transforms, InMemoryPixelsTakeTheSamePath) {
  data::SampleSet set;
  set.name = "toy";
  set.pixels = dml::Tensor::empty({2, 4, 3}, dml::DType::u8);
  for (int64_t i = 0; i < 24; ++i) set.pixels.data<uint8_t>()[i] = uint8_t(i * 10);
  data::Sample s;
  s.pixel_row = 1;
  const Image image = data::image_of(set, s);
  EXPECT_EQ(std::tie(image.height, image.width, image.channels),
            std::make_tuple(int64_t(4), int64_t(3), int64_t(1)));
  EXPECT_EQ(image.at(0, 0, 0), 120);
  s.pixel_row = 2;
  expect_error([&] { data::image_of(set, s); }, {"toy: pixel row 2 is outside the 2"});
}

}  // namespace
