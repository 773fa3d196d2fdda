#pragma once
// The common currency of every dataset reader: a list of samples, each an
// image (a file, or a row of an in-memory pixel array) with its class label
// and any attribute labels. Samplers, the loader and the fairness metrics read
// only this, so a new dataset format needs only a reader.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dml/data/value_names.h"
#include "engine/tensor.h"

namespace dml::data {

// The parts a dataset is published in. Each reader accepts the ones its
// dataset has (CUB and Cars: the zero-shot class split train/test; In-Shop:
// train/query/gallery; CelebA: train/val/test) and `all` for everything.
enum class Split { train, test, val, query, gallery, all };

const char* split_name(Split split);  // "train", "test", ...
// The inverse of split_name; an unknown name throws listing the valid ones.
Split parse_split(std::string_view name);

// What every reader can be told.
struct ReaderOptions {
  // Check that every image file a list names exists, so a broken download
  // fails at load time with the file's name rather than mid-training. Turn
  // off to load a large list quickly when the files are known to be there.
  bool check_files = true;
};

// A box in pixels of the original image (CUB's bounding_boxes.txt, Cars'
// devkit annotations): left, top, width, height.
struct BoundingBox {
  float x = 0, y = 0, width = 0, height = 0;
};

struct Sample {
  std::string path;                   // image file; empty when the pixels are in memory
  int64_t pixel_row = -1;             // row of SampleSet::pixels when path is empty
  int64_t label = -1;                 // class label in the dataset's own numbering
  std::vector<int64_t> attributes{};  // one value per SampleSet::attribute_names
  std::optional<BoundingBox> box{};
};

struct SampleSet {
  std::string name{};                          // "cub200 train", "csv:<path> test", ...
  std::vector<std::string> attribute_names{};  // e.g. CelebA's 40, or CSV columns
  std::vector<Sample> samples{};
  // What the codes mean where the source names them (value_names.h): class
  // label -> name, and per attribute (in attribute_names order; may be
  // shorter, an absent or empty entry meaning "no names") value -> name.
  ValueNames class_names{};
  std::vector<ValueNames> attribute_values{};
  // In-memory images (IDX datasets): u8 [n, h, w] (grey) or [n, h, w, c].
  Tensor pixels{};
};

// The value names of attribute `column` of `set` (empty when it has none).
const ValueNames& attribute_value_names(const SampleSet& set, size_t column);

}  // namespace dml::data
