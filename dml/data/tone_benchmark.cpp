#include "dml/data/tone_benchmark.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>

#include "base/error.h"
#include "dml/data/fashion_mnist.h"
#include "dml/data/permutation.h"
#include "dml/data/random_streams.h"
#include "engine/tensor.h"

namespace dml::data {

namespace {

// darken, brighten and contrast keep 35% of the distance to their anchor
// (black, white, the mean): a change a model easily sees, without erasing
// the garment.
constexpr int64_t kKeepPercent = 35;
constexpr double kNoiseSigma = 40;

const std::vector<std::string> kNames = {"invert", "darken", "brighten", "contrast",
                                         "noise",  "blur",   "stripes"};
// The attribute value 1 in reports: what the transform made of the image
// (value 0 is "original").
const std::vector<std::string> kChangedNames = {
    "inverted", "darkened", "brightened", "low contrast", "noisy", "blurred", "striped"};
constexpr uint8_t kStripeGrey = 96;

// x * kKeepPercent / 100 rounded half up, in integers so the result is exact.
uint8_t shrink_towards_zero(int64_t x) {
  return uint8_t((x * kKeepPercent + 50) / 100);
}

uint8_t round_to_grey(double v) {
  return uint8_t(std::clamp(std::floor(v + 0.5), 0.0, 255.0));
}

void reduce_contrast(uint8_t* p, int64_t n) {
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) mean += p[i];
  mean /= double(n);
  // A convex combination of x and the mean: stays in [0, 255].
  for (int64_t i = 0; i < n; ++i)
    p[i] = round_to_grey(mean + (double(p[i]) - mean) * double(kKeepPercent) / 100.0);
}

void add_noise(uint8_t* p, int64_t n, uint64_t seed) {
  Generator gen(seed);
  const Tensor z = randn({n}, DType::f64, &gen);
  const double* zp = z.data<double>();
  for (int64_t i = 0; i < n; ++i) p[i] = round_to_grey(double(p[i]) + kNoiseSigma * zp[i]);
}

void box_blur(uint8_t* p, int64_t h, int64_t w) {
  const std::vector<uint8_t> src(p, p + h * w);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      int64_t sum = 0, count = 0;
      for (int64_t yy = std::max<int64_t>(y - 1, 0); yy <= std::min(y + 1, h - 1); ++yy)
        for (int64_t xx = std::max<int64_t>(x - 1, 0); xx <= std::min(x + 1, w - 1); ++xx) {
          sum += src[size_t(yy * w + xx)];
          ++count;
        }
      p[y * w + x] = uint8_t((2 * sum + count) / (2 * count));  // sum / count, half up
    }
}

void add_stripes(uint8_t* p, int64_t h, int64_t w) {
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      if ((y + x) % 4 < 2) p[y * w + x] = std::max(p[y * w + x], kStripeGrey);
}

void apply_full_transform(ToneTransform transform, uint8_t* pixels, int64_t height, int64_t width,
                          uint64_t noise_seed) {
  const int64_t n = height * width;
  switch (transform) {
    case ToneTransform::invert:
      for (int64_t i = 0; i < n; ++i) pixels[i] = uint8_t(255 - pixels[i]);
      return;
    case ToneTransform::darken:
      for (int64_t i = 0; i < n; ++i) pixels[i] = shrink_towards_zero(pixels[i]);
      return;
    case ToneTransform::brighten:
      for (int64_t i = 0; i < n; ++i)
        pixels[i] = uint8_t(255 - shrink_towards_zero(255 - pixels[i]));
      return;
    case ToneTransform::contrast:
      return reduce_contrast(pixels, n);
    case ToneTransform::noise:
      return add_noise(pixels, n, noise_seed);
    case ToneTransform::blur:
      return box_blur(pixels, height, width);
    case ToneTransform::stripes:
      return add_stripes(pixels, height, width);
  }
}

void check_share(double share) {
  DML_CHECK(share >= 0 && share <= 1, "tone benchmark: minority share ", share,
            " must lie in [0, 1]");
}

void check_attribute(const ImageAttribute& a) {
  DML_CHECK(a.share >= 0 && a.share <= 1, "tone benchmark: ", a.name, " minority share ", a.share,
            " must lie in [0, 1]");
  DML_CHECK(a.strength >= 0 && a.strength <= 1, "tone benchmark: ", a.name, " strength ",
            a.strength, " must lie in [0, 1]");
}

std::string name_list() {
  std::string list;
  for (const std::string& n : kNames) list += (list.empty() ? "" : ", ") + n;
  return list;
}

}  // namespace

const std::vector<std::string>& tone_transform_names() {
  return kNames;
}

ToneTransform parse_tone_transform(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (name == kNames[i]) return ToneTransform(i);
  throw Error(
      detail::concat("tone benchmark: unknown transform '", name, "'; use one of ", name_list()));
}

const char* tone_transform_name(ToneTransform transform) {
  return kNames[size_t(transform)].c_str();
}

void apply_tone_transform(ToneTransform transform, uint8_t* pixels, int64_t height, int64_t width,
                          uint64_t noise_seed, double strength) {
  DML_CHECK(height > 0 && width > 0, "apply_tone_transform: image size ", height, "x", width,
            " must be positive");
  DML_CHECK(strength >= 0 && strength <= 1, "tone benchmark: strength ", strength,
            " must lie in [0, 1]");
  if (strength == 1) return apply_full_transform(transform, pixels, height, width, noise_seed);
  const int64_t n = height * width;
  std::vector<uint8_t> changed(pixels, pixels + n);
  apply_full_transform(transform, changed.data(), height, width, noise_seed);
  // Between x and T(x), so no clamping is needed beyond the rounding.
  for (int64_t i = 0; i < n; ++i)
    pixels[i] =
        round_to_grey(double(pixels[i]) + strength * (double(changed[size_t(i)]) - pixels[i]));
}

int64_t minority_count(int64_t class_size, double share) {
  check_share(share);
  DML_CHECK(class_size >= 0, "tone benchmark: class size ", class_size, " must be >= 0");
  if (share == 0 || class_size == 0) return 0;
  const auto count = int64_t(std::floor(share * double(class_size) + 0.5));
  return std::clamp<int64_t>(count, 1, class_size);
}

SampleSet add_image_attribute(const SampleSet& set, const ImageAttribute& attribute, uint64_t seed,
                              Split split) {
  check_attribute(attribute);
  const Tensor& src = set.pixels;
  DML_CHECK(src.defined() && src.dtype() == DType::u8 && src.dim() == 3,
            "tone benchmark: ", set.name,
            " must hold its images in memory as grey u8 [n, h, w], got ",
            src.defined() ? describe(src) : std::string("no pixels"));
  for (const std::string& name : set.attribute_names)
    DML_CHECK(name != attribute.name, "tone benchmark: ", set.name, " already has an attribute '",
              attribute.name, "'; drop it first");
  const int64_t n = int64_t(set.samples.size()), h = src.shape()[1], w = src.shape()[2];
  const int64_t plane = h * w;

  // Sample indices of each class, in sample order.
  std::map<int64_t, std::vector<int64_t>> classes;
  for (int64_t i = 0; i < n; ++i) classes[set.samples[size_t(i)].label].push_back(i);

  std::vector<int64_t> tone(size_t(n), 0);
  std::vector<uint64_t> noise_seed(size_t(n), 0);
  for (const auto& [label, members] : classes) {
    Generator gen(stream_seed(seed, attribute.choice, {uint64_t(split), uint64_t(label)}));
    const std::vector<int64_t> order = random_permutation(int64_t(members.size()), gen);
    const int64_t flagged = minority_count(int64_t(members.size()), attribute.share);
    for (int64_t k = 0; k < flagged; ++k) tone[size_t(members[size_t(order[size_t(k)])])] = 1;
    for (size_t k = 0; k < members.size(); ++k)
      noise_seed[size_t(members[k])] =
          stream_seed(seed, attribute.noise, {uint64_t(split), uint64_t(label), k});
  }

  SampleSet out;
  out.name = set.name;
  out.attribute_names = set.attribute_names;
  out.attribute_names.push_back(attribute.name);
  out.class_names = set.class_names;
  out.attribute_values = set.attribute_values;
  out.attribute_values.resize(set.attribute_names.size());
  out.attribute_values.push_back(
      {{0, "original"}, {1, kChangedNames[size_t(attribute.transform)]}});
  out.samples = set.samples;
  out.pixels = Tensor::empty({n, h, w}, DType::u8);
  const uint8_t* from = src.data<uint8_t>();
  uint8_t* to = out.pixels.data<uint8_t>();
  for (int64_t i = 0; i < n; ++i) {
    Sample& s = out.samples[size_t(i)];
    DML_CHECK(s.path.empty() && s.pixel_row >= 0 && s.pixel_row < src.shape()[0],
              "tone benchmark: sample ", i, " of ", set.name, " has pixel row ", s.pixel_row,
              " outside its ", src.shape()[0], " in-memory images");
    std::memcpy(to + i * plane, from + s.pixel_row * plane, size_t(plane));
    if (tone[size_t(i)])
      apply_tone_transform(attribute.transform, to + i * plane, h, w, noise_seed[size_t(i)],
                           attribute.strength);
    s.pixel_row = i;
    s.attributes.push_back(tone[size_t(i)]);
  }
  return out;
}

SampleSet make_tone_benchmark(const std::string& dir, Split split,
                              const ToneBenchmarkConfig& config) {
  DML_CHECK(split == Split::train || split == Split::test, "tone benchmark: no split '",
            split_name(split), "'; use train or test");
  const bool train = split == Split::train;
  // Checked before the files are read, so a typo fails at once.
  const ImageAttribute tone = {
      .name = "tone",
      .transform = parse_tone_transform(config.transform),
      .strength = config.strength,
      .share = train ? config.minority_share_train : config.minority_share_test};
  check_attribute(tone);
  std::optional<ImageAttribute> pattern;
  if (!config.pattern_transform.empty()) {
    pattern = {.name = "pattern",
               .transform = parse_tone_transform(config.pattern_transform),
               .strength = config.pattern_strength,
               .share = train ? config.pattern_share_train : config.pattern_share_test,
               .choice = Stream::pattern_choice,
               .noise = Stream::pattern_noise};
    check_attribute(*pattern);
  }
  SampleSet set =
      read_fashion_mnist_samples(dir, split, train ? config.train_classes : config.test_classes);
  SampleSet out = add_image_attribute(set, tone, config.seed, split);
  std::string what = detail::concat(config.transform, " on ", tone.share * 100, "%");
  if (tone.strength != 1) what += detail::concat(" at strength ", tone.strength);
  if (pattern) {
    out = add_image_attribute(out, *pattern, config.seed, split);
    what +=
        detail::concat("; pattern: ", config.pattern_transform, " on ", pattern->share * 100, "%");
    if (pattern->strength != 1) what += detail::concat(" at strength ", pattern->strength);
  }
  out.name = detail::concat("fashion-mnist-tone ", set.name.substr(set.name.find(' ') + 1), " (",
                            what, ")");
  return out;
}

}  // namespace dml::data
