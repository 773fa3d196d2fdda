#pragma once
// CUB-200-2011 (Wah et al. 2011): 11788 photographs of 200 bird species, in
// its published layout under `root` (the CUB_200_2011 folder):
//   images.txt              `image_id path` (path under images/)
//   image_class_labels.txt  `image_id class_id` (1..200)
//   bounding_boxes.txt      `image_id x y width height` (pixels)
//   attributes/image_attribute_labels.txt
//                           `image_id attribute_id is_present certainty_id time`
//   attributes.txt          `attribute_id name` (312 names such as
//                           "has_bill_shape::curved_(up_or_down)"); looked for
//                           in root/attributes/, root/ and root/.. (the
//                           archive ships it beside the CUB_200_2011 folder)
// The zero-shot DML split: classes 1-100 train, 101-200 test.
#include <string>
#include <vector>

#include "dml/data/sample.h"
#include "dml/data/subset.h"

namespace dml::data {

constexpr int64_t kCub200Classes = 200;
constexpr ClassSplit kCub200Split{{1, 100}, {101, 200}};

struct Cub200Options {
  bool check_files = true;  // as ReaderOptions::check_files
  bool boxes = true;        // read bounding_boxes.txt into Sample::box
  // Attributes to load as 0/1 (is_present), in this order, by their names in
  // attributes.txt; empty loads none and reads no attribute file. Rows of
  // image_attribute_labels.txt may have 5 or 6 fields (a few rows of the
  // published file carry an extra one); only the first three are used.
  // Values are is_present, 0 and 1, named "no" and "yes".
  std::vector<std::string> attributes = {};
};

// Split::train, Split::test (the class ranges above) or Split::all; samples in
// images.txt order, labels the class ids 1..200.
SampleSet read_cub200(const std::string& root, Split split, const Cub200Options& options = {});

}  // namespace dml::data
