#pragma once
// The bundled fairness benchmark: Fashion-MNIST with sensitive attributes
// made from the image. A "tone" transform (e.g. inverting the grey levels) is
// applied to a minority share of every training class and to half of every
// held-out class, so a model trained on the skewed split can be audited on a
// balanced one. Attribute value 1 marks a transformed image (the minority),
// 0 an untouched one. The transform's strength grades the benchmark: at 1 the
// whole change (an inverted image is trivially told apart), at 0.1 a tenth of
// it, which an untrained network barely sees. An optional second attribute,
// "pattern", chosen independently of the first (own streams), makes
// intersectional subgroups (tone x pattern).
//
// Which images are transformed is exact and repeatable: in a class of n
// images, minority_count(n, share) are chosen by a seeded random permutation
// of that class (in file order) drawn from its own stream, the tone_choice
// stream's (split, class) of the seed (random_streams.h). A class's choice
// therefore depends only on those three, not on which other classes are
// loaded.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dml/data/random_streams.h"
#include "dml/data/sample.h"

namespace dml::data {

// The image changes that define the attribute, on 8-bit grey levels x
// (results rounded half up to integers):
//   invert    255 - x
//   darken    x * 0.35
//   brighten  255 - (255 - x) * 0.35            (darken's mirror image)
//   contrast  m + (x - m) * 0.35, m = the image's mean grey level
//   noise     clamp(x + 40 z, 0, 255), z ~ N(0, 1) per pixel, seeded per image
//   blur      mean of the 3x3 neighbourhood (the neighbours inside the image)
//   stripes   max(x, 96) where (row + column) mod 4 < 2: a diagonal grey
//             pattern on the black background, the garment's bright pixels
//             kept
enum class ToneTransform { invert, darken, brighten, contrast, noise, blur, stripes };

// The names above, in that order.
const std::vector<std::string>& tone_transform_names();
// The transform of a name; an unknown name throws listing the valid ones.
ToneTransform parse_tone_transform(std::string_view name);
const char* tone_transform_name(ToneTransform transform);

// Rewrites one grey image (height x width bytes, row-major) in place.
// `noise_seed` seeds the noise transform's Generator (dml::randn, f64); the
// others ignore it. `strength` in [0, 1] keeps that fraction of the change:
// x + strength * (T(x) - x), rounded half up (1: T(x) exactly, 0: x).
void apply_tone_transform(ToneTransform transform, uint8_t* pixels, int64_t height, int64_t width,
                          uint64_t noise_seed, double strength = 1);

// How many of a class's `class_size` images are flagged: round(share * size)
// (half up), at least 1 when share > 0 and the class is not empty. share must
// lie in [0, 1].
int64_t minority_count(int64_t class_size, double share);

// One attribute made from the image, and the random streams that choose its
// images and draw its noise (random_streams.h).
struct ImageAttribute {
  std::string name = "tone";
  ToneTransform transform = ToneTransform::invert;
  double strength = 1;  // in [0, 1], see apply_tone_transform
  double share = 0.05;  // of each class, in [0, 1]
  Stream choice = Stream::tone_choice, noise = Stream::tone_noise;
};

// `set` with the attribute appended to its attributes: in each class,
// minority_count(class size, share) samples get value 1 and their image
// transformed, the others 0. The values are named "original" (0) and what
// the transform makes (1: "inverted", "darkened", "brightened", "low
// contrast", "noisy", "blurred", "striped"). The result owns a new pixel tensor u8 [n, h, w]
// with one row per sample in sample order (the input is untouched); the set's
// images must be in memory as grey u8 [rows, h, w]. `seed` and `split` drive
// the choice and the noise: class c draws from the choice stream's (split,
// c), and the k-th image of class c (in sample order) takes its noise from
// the noise stream's (split, c, k).
SampleSet add_image_attribute(const SampleSet& set, const ImageAttribute& attribute, uint64_t seed,
                              Split split);

struct ToneBenchmarkConfig {
  // Classes read for each split (empty: all ten): training images come from
  // the 60,000 training images, held-out ones from the 10,000 test images.
  std::vector<int64_t> train_classes{0, 1, 2, 3, 4};
  std::vector<int64_t> test_classes{5, 6, 7, 8, 9};
  double minority_share_train = 0.05;  // share of each training class transformed
  double minority_share_test = 0.5;    // share of each held-out class transformed
  std::string transform = "invert";    // one of tone_transform_names()
  double strength = 1;                 // of the transform, in [0, 1]
  // The second attribute, "pattern" (off when the transform is empty), with
  // the same meaning of each setting.
  std::string pattern_transform{};
  double pattern_strength = 1;
  double pattern_share_train = 0.2, pattern_share_test = 0.5;
  uint64_t seed = 0;
};

// The benchmark's train or test split from the Fashion-MNIST IDX files in
// `dir` (Debian: /usr/share/datasets/fashion-mnist): add_image_attribute
// "tone" (then "pattern", if set) on the split's classes with the split's
// share and config.seed. Other splits throw.
SampleSet make_tone_benchmark(const std::string& dir, Split split,
                              const ToneBenchmarkConfig& config = {});

}  // namespace dml::data
