// The tone benchmark: each transform's pixel math on tiny hand-made images,
// the exact minority counts, the choice of flagged samples on a synthetic set
// (exact counts, the transform on exactly the flagged images, determinism,
// independence of the other classes), and the real Fashion-MNIST splits
// (skipped where Debian's dataset-fashion-mnist is not installed).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "dml/data/fashion_mnist.h"
#include "dml/data/tone_benchmark.h"
#include "tests/support/test_support.h"

namespace {

namespace data = dml::data;
using dml::data::add_image_attribute;
using dml::data::apply_tone_transform;
using dml::data::make_tone_benchmark;
using dml::data::minority_count;
using dml::data::parse_tone_transform;
using dml::data::ToneBenchmarkConfig;
using dml::data::ToneTransform;
using dml::test::expect_error;

const char* const kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

using Pixels = std::vector<uint8_t>;

Pixels transformed(ToneTransform t, Pixels image, int64_t h, int64_t w, uint64_t seed = 0,
                   double strength = 1) {
  apply_tone_transform(t, image.data(), h, w, seed, strength);
  return image;
}

// ---- names -------------------------------------------------------------------

TEST(ToneTransform, NamesRoundTrip) {
  const std::vector<std::string> expected = {"invert", "darken", "brighten", "contrast",
                                             "noise",  "blur",   "stripes"};
  EXPECT_EQ(dml::data::tone_transform_names(), expected);
  for (const std::string& name : expected)
    EXPECT_EQ(dml::data::tone_transform_name(parse_tone_transform(name)), name);
}

TEST(ToneTransform, UnknownNameListsTheValidOnes) {
  expect_error(
      [] { parse_tone_transform("tint"); },
      {"unknown transform 'tint'", "invert, darken, brighten, contrast, noise, blur, stripes"});
}

// ---- pixel math ----------------------------------------------------------------

TEST(ToneTransform, Invert) {
  EXPECT_EQ(transformed(ToneTransform::invert, {0, 10, 100, 255}, 2, 2),
            (Pixels{255, 245, 155, 0}));
}

TEST(ToneTransform, StripesLiftTheBackgroundOnEveryOtherDiagonalPair) {
  // (row + column) mod 4 < 2 on a 2 x 4 image: columns 0, 1 of row 0 and
  // columns 0, 3 of row 1; bright pixels stay as they are.
  EXPECT_EQ(transformed(ToneTransform::stripes, {0, 200, 0, 0, 0, 0, 50, 0}, 2, 4),
            (Pixels{96, 200, 0, 0, 96, 0, 50, 96}));
}

TEST(ToneTransform, StrengthKeepsThatFractionOfTheChangeRoundedHalfUp) {
  // invert at 0.1: 0 -> 25.5 -> 26, 10 -> 33.5 -> 34, 100 -> 105.5 -> 106, 255 -> 229.5 -> 230.
  EXPECT_EQ(transformed(ToneTransform::invert, {0, 10, 100, 255}, 2, 2, 0, 0.1),
            (Pixels{26, 34, 106, 230}));
  EXPECT_EQ(transformed(ToneTransform::invert, {0, 10, 100, 255}, 2, 2, 0, 0),
            (Pixels{0, 10, 100, 255}));
  // Halfway to the stripes: 0 -> 48 where a stripe falls.
  EXPECT_EQ(transformed(ToneTransform::stripes, {0, 0, 0, 0}, 1, 4, 0, 0.5),
            (Pixels{48, 48, 0, 0}));
  // Noise at strength s moves each pixel by s times the full-strength change.
  const Pixels grey(64, 128);
  const Pixels full = transformed(ToneTransform::noise, grey, 8, 8, 7);
  const Pixels half = transformed(ToneTransform::noise, grey, 8, 8, 7, 0.5);
  for (size_t i = 0; i < grey.size(); ++i)
    EXPECT_LE(std::abs(2 * (int(half[i]) - 128) - (int(full[i]) - 128)), 1) << i;
  expect_error([] { transformed(ToneTransform::invert, {0}, 1, 1, 0, 1.5); }, {"strength 1.5"});
}

TEST(ToneTransform, DarkenKeeps35PercentRoundedHalfUp) {
  // 0.35, 0.7, 3.5, 35, 89.25
  EXPECT_EQ(transformed(ToneTransform::darken, {0, 1, 2, 10, 100, 255}, 1, 6),
            (Pixels{0, 0, 1, 4, 35, 89}));
}

TEST(ToneTransform, BrightenMirrorsDarken) {
  // Distances to white 255, 1, 2, 10, 100, 0 shrink to 89, 0, 1, 4, 35, 0.
  EXPECT_EQ(transformed(ToneTransform::brighten, {0, 254, 253, 245, 155, 255}, 3, 2),
            (Pixels{166, 255, 254, 251, 220, 255}));
}

TEST(ToneTransform, ContrastShrinksTowardsTheImageMean) {
  // Mean 100; deviations -100, -60, -20, 20, 60, 100 become -35, -21, -7, 7, 21, 35.
  EXPECT_EQ(transformed(ToneTransform::contrast, {0, 40, 80, 120, 160, 200}, 2, 3),
            (Pixels{65, 79, 93, 107, 121, 135}));
  // Mean 1.5: 0 -> 0.975 -> 1, 3 -> 2.025 -> 2.
  EXPECT_EQ(transformed(ToneTransform::contrast, {0, 3}, 1, 2), (Pixels{1, 2}));
}

TEST(ToneTransform, BlurAveragesTheNeighboursInsideTheImage) {
  // Corners: 18 / 4 = 4.5 -> 5; edges: 27 / 6 = 4.5 -> 5; centre: 36 / 9 = 4.
  EXPECT_EQ(transformed(ToneTransform::blur, {0, 9, 0, 9, 0, 9, 0, 9, 0}, 3, 3),
            (Pixels{5, 5, 5, 5, 4, 5, 5, 5, 5}));
  // One row: (10 + 20) / 2 = 15, (10 + 20 + 90) / 3 = 40, (20 + 90) / 2 = 55.
  EXPECT_EQ(transformed(ToneTransform::blur, {10, 20, 90}, 1, 3), (Pixels{15, 40, 55}));
  EXPECT_EQ(transformed(ToneTransform::blur, {77}, 1, 1), (Pixels{77}));
}

TEST(ToneTransform, NoiseAddsSeededGaussianTimes40Clamped) {
  const int64_t h = 64, w = 64, n = h * w;
  const Pixels grey(size_t(n), 128);
  const Pixels noisy = transformed(ToneTransform::noise, grey, h, w, 42);
  // Pixel by pixel: the seed's standard normals, scaled, rounded half up, clamped.
  dml::Generator gen(42);
  const std::vector<double> z = dml::randn({n}, dml::DType::f64, &gen).to_vector<double>();
  double sum = 0, sum_sq = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = std::clamp(std::floor(128 + 40 * z[size_t(i)] + 0.5), 0.0, 255.0);
    ASSERT_EQ(noisy[size_t(i)], uint8_t(v)) << "pixel " << i;
    sum += noisy[size_t(i)] - 128.0;
    sum_sq += (noisy[size_t(i)] - 128.0) * (noisy[size_t(i)] - 128.0);
  }
  // And the result has the advertised spread (clamping at 3.2 sigma is negligible).
  EXPECT_NEAR(sum / double(n), 0, 2.5);
  EXPECT_NEAR(std::sqrt(sum_sq / double(n)), 40, 2);
  EXPECT_EQ(transformed(ToneTransform::noise, grey, h, w, 42), noisy);
  EXPECT_NE(transformed(ToneTransform::noise, grey, h, w, 43), noisy);
  // Saturated images stay within [0, 255]: black gains only brightness.
  const Pixels black = transformed(ToneTransform::noise, Pixels(size_t(n), 0), h, w, 42);
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(black[size_t(i)],
              uint8_t(std::clamp(std::floor(40 * z[size_t(i)] + 0.5), 0.0, 255.0)));
}

// ---- counts ----------------------------------------------------------------------

TEST(ToneBenchmark, MinorityCountRoundsHalfUpAndKeepsAtLeastOne) {
  EXPECT_EQ(minority_count(6000, 0.05), 300);
  EXPECT_EQ(minority_count(1000, 0.5), 500);
  EXPECT_EQ(minority_count(5, 0.5), 3);    // 2.5
  EXPECT_EQ(minority_count(7, 0.3), 2);    // 2.1
  EXPECT_EQ(minority_count(10, 0.04), 1);  // 0.4, raised to one
  EXPECT_EQ(minority_count(5, 1.0), 5);
  EXPECT_EQ(minority_count(7, 0.0), 0);
  EXPECT_EQ(minority_count(0, 0.5), 0);
  expect_error([] { minority_count(10, 1.5); }, {"minority share 1.5", "[0, 1]"});
  expect_error([] { minority_count(10, -0.1); }, {"minority share -0.1"});
}

// ---- the choice, on a synthetic set ----------------------------------------------

// Classes 3 (10 images), 8 (7) and 1 (1), interleaved; pixel rows in reverse
// sample order so the rewrite must follow pixel_row; every pixel distinct-ish.
data::SampleSet synthetic_set() {
  const std::vector<int64_t> labels = {3, 8, 3, 3, 1, 8, 3, 8, 3, 3, 8, 3, 8, 3, 8, 3, 8, 3};
  const int64_t n = int64_t(labels.size()), h = 4, w = 5;
  data::SampleSet set;
  set.name = "synthetic";
  set.pixels = dml::Tensor::empty({n, h, w}, dml::DType::u8);
  uint8_t* p = set.pixels.data<uint8_t>();
  for (int64_t i = 0; i < n * h * w; ++i) p[i] = uint8_t((i * 37 + 11) % 256);
  for (int64_t i = 0; i < n; ++i) {
    data::Sample s;
    s.label = labels[size_t(i)];
    s.pixel_row = n - 1 - i;
    set.samples.push_back(s);
  }
  return set;
}

std::map<int64_t, int64_t> flagged_per_class(const data::SampleSet& set) {
  std::map<int64_t, int64_t> count;
  for (const data::Sample& s : set.samples) count[s.label] += s.attributes.back();
  return count;
}

std::vector<int64_t> tones(const data::SampleSet& set) {
  std::vector<int64_t> out;
  for (const data::Sample& s : set.samples) out.push_back(s.attributes.back());
  return out;
}

// The image of sample i of `set` (h * w bytes).
Pixels image_of(const data::SampleSet& set, size_t i) {
  const int64_t plane = set.pixels.shape()[1] * set.pixels.shape()[2];
  const uint8_t* p = set.pixels.data<uint8_t>() + set.samples[i].pixel_row * plane;
  return Pixels(p, p + plane);
}

// Flagged samples hold the inverted original, the others the original.
void expect_inverted_exactly_where_flagged(const data::SampleSet& original,
                                           const data::SampleSet& toned) {
  ASSERT_EQ(original.samples.size(), toned.samples.size());
  for (size_t i = 0; i < toned.samples.size(); ++i) {
    Pixels expected = image_of(original, i);
    if (toned.samples[i].attributes.back() == 1)
      for (uint8_t& v : expected) v = uint8_t(255 - v);
    ASSERT_EQ(image_of(toned, i), expected) << "sample " << i;
  }
}

TEST(ToneBenchmark, FlagsExactCountsPerClassAndTransformsExactlyThose) {
  const data::SampleSet set = synthetic_set();
  const dml::Tensor before = set.pixels.clone();
  const data::SampleSet toned = add_image_attribute(
      set, {.transform = ToneTransform::invert, .share = 0.3}, 5, data::Split::train);
  EXPECT_EQ(flagged_per_class(toned), (std::map<int64_t, int64_t>{{1, 1}, {3, 3}, {8, 2}}));
  EXPECT_EQ(toned.attribute_names, std::vector<std::string>{"tone"});
  expect_inverted_exactly_where_flagged(set, toned);
  // The result has its own pixels, one row per sample; the input is untouched.
  for (size_t i = 0; i < toned.samples.size(); ++i) {
    EXPECT_EQ(toned.samples[i].pixel_row, int64_t(i));
    EXPECT_EQ(toned.samples[i].label, set.samples[i].label);
  }
  EXPECT_EQ(std::memcmp(set.pixels.data<uint8_t>(), before.data<uint8_t>(), before.nbytes()), 0);
}

TEST(ToneBenchmark, ChoiceIsAFunctionOfTheSeedAndTheClassAlone) {
  const data::SampleSet set = synthetic_set();
  const auto a = tones(add_image_attribute(set, {.transform = ToneTransform::invert, .share = 0.5},
                                           9, data::Split::train));
  EXPECT_EQ(tones(add_image_attribute(set, {.transform = ToneTransform::invert, .share = 0.5}, 9,
                                      data::Split::train)),
            a);
  // Some seed among a few picks different members of the 10-image class.
  bool differs = false;
  for (uint64_t seed = 10; seed < 15 && !differs; ++seed)
    differs = tones(add_image_attribute(set, {.transform = ToneTransform::invert, .share = 0.5},
                                        seed, data::Split::train)) != a;
  EXPECT_TRUE(differs);
  // The test split draws from streams of its own.
  EXPECT_NE(tones(add_image_attribute(set, {.transform = ToneTransform::invert, .share = 0.5}, 9,
                                      data::Split::test)),
            a);
  // Dropping the other classes leaves class 3's choice as it was.
  data::SampleSet only3 = set;
  std::erase_if(only3.samples, [](const data::Sample& s) { return s.label != 3; });
  const auto b = tones(add_image_attribute(
      only3, {.transform = ToneTransform::invert, .share = 0.5}, 9, data::Split::train));
  std::vector<int64_t> a3;
  for (size_t i = 0; i < set.samples.size(); ++i)
    if (set.samples[i].label == 3) a3.push_back(a[i]);
  EXPECT_EQ(b, a3);
}

TEST(ToneBenchmark, SecondAttributeIsChosenFromItsOwnStreams) {
  const data::SampleSet set = synthetic_set();
  const data::ImageAttribute pattern = {.name = "pattern",
                                        .transform = ToneTransform::stripes,
                                        .share = 0.5,
                                        .choice = dml::data::Stream::pattern_choice,
                                        .noise = dml::data::Stream::pattern_noise};
  const data::SampleSet both = add_image_attribute(
      add_image_attribute(set, {.transform = ToneTransform::invert, .share = 0.5}, 9,
                          data::Split::train),
      pattern, 9, data::Split::train);
  EXPECT_EQ(both.attribute_names, (std::vector<std::string>{"tone", "pattern"}));
  std::vector<int64_t> tone, stripes;
  for (const data::Sample& s : both.samples) {
    tone.push_back(s.attributes[0]);
    stripes.push_back(s.attributes[1]);
  }
  // Same seed and share, other streams: another choice of images.
  EXPECT_NE(tone, stripes);
  EXPECT_EQ(stripes, tones(add_image_attribute(set, pattern, 9, data::Split::train)));
}

TEST(ToneBenchmark, ValuesAreNamedByWhatTheTransformMade) {
  data::SampleSet set = synthetic_set();
  set.class_names = {{1, "one"}};
  const data::SampleSet toned = add_image_attribute(
      set, {.transform = ToneTransform::invert, .share = 0.5}, 9, data::Split::train);
  ASSERT_EQ(toned.attribute_values.size(), 1u);
  EXPECT_EQ(toned.attribute_values[0], (data::ValueNames{{0, "original"}, {1, "inverted"}}));
  EXPECT_EQ(toned.class_names, set.class_names);
  const data::SampleSet both = add_image_attribute(
      toned, {.name = "pattern", .transform = ToneTransform::stripes, .share = 0.5}, 9,
      data::Split::train);
  ASSERT_EQ(both.attribute_values.size(), 2u);
  EXPECT_EQ(both.attribute_values[0], toned.attribute_values[0]);
  EXPECT_EQ(both.attribute_values[1], (data::ValueNames{{0, "original"}, {1, "striped"}}));
}

TEST(ToneBenchmark, AppendsToExistingAttributesAndRejectsBadInput) {
  data::SampleSet set = synthetic_set();
  set.attribute_names = {"bird"};
  for (data::Sample& s : set.samples) s.attributes = {7};
  const data::SampleSet toned = add_image_attribute(
      set, {.transform = ToneTransform::darken, .share = 0.5}, 1, data::Split::train);
  EXPECT_EQ(toned.attribute_names, (std::vector<std::string>{"bird", "tone"}));
  EXPECT_EQ(toned.samples[0].attributes.size(), 2u);
  EXPECT_EQ(toned.samples[0].attributes[0], 7);
  expect_error(
      [&] {
        add_image_attribute(toned, {.transform = ToneTransform::darken, .share = 0.5}, 1,
                            data::Split::train);
      },
      {"already has an attribute 'tone'"});
  data::SampleSet files = synthetic_set();
  files.pixels = {};
  expect_error(
      [&] {
        add_image_attribute(files, {.transform = ToneTransform::invert, .share = 0.5}, 1,
                            data::Split::train);
      },
      {"synthetic", "grey u8 [n, h, w]"});
  data::SampleSet bad_row = synthetic_set();
  bad_row.samples[2].pixel_row = 99;
  expect_error(
      [&] {
        add_image_attribute(bad_row, {.transform = ToneTransform::invert, .share = 0.5}, 1,
                            data::Split::train);
      },
      {"sample 2", "pixel row 99"});
}

// ---- the real Fashion-MNIST ----------------------------------------------------------

bool have_fashion_mnist() {
  return std::filesystem::exists(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz");
}

TEST(ToneBenchmark, TestSplitIsHalfTransformedPerClass) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "no Fashion-MNIST at " << kFashionMnistDir;
  ToneBenchmarkConfig config;
  config.test_classes = {5, 6};
  config.seed = 3;
  const data::SampleSet toned = make_tone_benchmark(kFashionMnistDir, data::Split::test, config);
  const data::SampleSet original =
      data::read_fashion_mnist_samples(kFashionMnistDir, data::Split::test, {5, 6});
  EXPECT_EQ(toned.name, "fashion-mnist-tone test classes 5,6 (invert on 50%)");
  EXPECT_EQ(toned.attribute_names, std::vector<std::string>{"tone"});
  EXPECT_EQ(flagged_per_class(toned), (std::map<int64_t, int64_t>{{5, 500}, {6, 500}}));
  expect_inverted_exactly_where_flagged(original, toned);

  EXPECT_EQ(tones(make_tone_benchmark(kFashionMnistDir, data::Split::test, config)), tones(toned));
  config.seed = 4;
  EXPECT_NE(tones(make_tone_benchmark(kFashionMnistDir, data::Split::test, config)), tones(toned));
}

TEST(ToneBenchmark, TrainSplitTransformsTheMinorityShare) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "no Fashion-MNIST at " << kFashionMnistDir;
  ToneBenchmarkConfig config;
  config.train_classes = {2};
  config.transform = "darken";
  const data::SampleSet toned = make_tone_benchmark(kFashionMnistDir, data::Split::train, config);
  const data::SampleSet original =
      data::read_fashion_mnist_samples(kFashionMnistDir, data::Split::train, {2});
  EXPECT_EQ(flagged_per_class(toned), (std::map<int64_t, int64_t>{{2, 300}}));  // 5% of 6000
  for (size_t i = 0; i < toned.samples.size(); ++i) {
    Pixels expected = image_of(original, i);
    if (toned.samples[i].attributes[0] == 1)
      apply_tone_transform(ToneTransform::darken, expected.data(), 28, 28, 0);
    ASSERT_EQ(image_of(toned, i), expected) << "sample " << i;
  }
}

TEST(ToneBenchmark, ConfigErrorsComeBeforeReadingFiles) {
  ToneBenchmarkConfig config;
  config.transform = "tint";
  expect_error([&] { make_tone_benchmark("/nonexistent", data::Split::test, config); },
               {"unknown transform 'tint'", "brighten"});
  config.transform = "invert";
  config.minority_share_test = 2;
  expect_error([&] { make_tone_benchmark("/nonexistent", data::Split::test, config); },
               {"minority share 2"});
  expect_error([&] { make_tone_benchmark("/nonexistent", data::Split::val, {}); },
               {"no split 'val'", "train or test"});
}

}  // namespace
