#include "dml/data/cub200.h"

#include <filesystem>
#include <unordered_map>

#include "dml/data/list_file.h"

namespace dml::data {

namespace {

constexpr const char* kWhat = "CUB-200-2011";
using Index = ImageIndex<int64_t>;

// images.txt defines the images and their order.
SampleSet read_images(const std::string& root, const Cub200Options& o, Index& index) {
  SampleSet set;
  ListFile list(join_path(root, "images.txt"), kWhat);
  while (list.next()) {
    list.expect_fields(2, "image_id path");
    index.add(list.integer(0, "image id"), list);
    Sample s;
    s.path = join_path(join_path(root, "images"), list.fields()[1]);
    if (o.check_files) require_image_file(s.path, list.where());
    set.samples.push_back(std::move(s));
  }
  list.require_images();
  return set;
}

void read_labels(const std::string& root, const Index& index, SampleSet& set) {
  ListFile list(join_path(root, "image_class_labels.txt"), kWhat);
  Index::Coverage cover(index);
  while (list.next()) {
    list.expect_fields(2, "image_id class_id");
    Sample& s = set.samples[cover.mark(list.integer(0, "image id"), list)];
    s.label = list.integer(1, "class id");
    if (s.label < 1 || s.label > kCub200Classes)
      list.fail("class id ", s.label, " is not a CUB-200-2011 class (1..", kCub200Classes, ")");
  }
  cover.require_all(list);
}

// classes.txt ("1 001.Black_footed_Albatross"), which the published folder
// holds: each class's name, without the number its image folder carries.
// Optional, as the labels are complete without it.
void read_class_names(const std::string& root, SampleSet& set) {
  const std::string path = join_path(root, "classes.txt");
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  ListFile list(path, kWhat);
  while (list.next()) {
    list.expect_fields(2, "class_id name");
    const int64_t id = list.integer(0, "class id");
    if (id < 1 || id > kCub200Classes)
      list.fail("class id ", id, " is not a CUB-200-2011 class (1..", kCub200Classes, ")");
    std::string_view name = list.fields()[1];
    const size_t dot = name.find('.');
    if (dot != std::string_view::npos &&
        name.substr(0, dot).find_first_not_of("0123456789") == std::string_view::npos)
      name.remove_prefix(dot + 1);
    if (first_invalid_utf8(name) != std::string_view::npos)
      list.fail("the class name is not valid UTF-8; save the file as UTF-8");
    if (!set.class_names.emplace(id, std::string(name)).second)
      list.fail("class ", id, " is named twice");
  }
}

void read_boxes(const std::string& root, const Index& index, SampleSet& set) {
  ListFile list(join_path(root, "bounding_boxes.txt"), kWhat);
  Index::Coverage cover(index);
  while (list.next()) {
    list.expect_fields(5, "image_id x y width height");
    Sample& s = set.samples[cover.mark(list.integer(0, "image id"), list)];
    BoundingBox box{float(list.number(1, "x")), float(list.number(2, "y")),
                    float(list.number(3, "width")), float(list.number(4, "height"))};
    if (box.width <= 0 || box.height <= 0) list.fail("the box has no area");
    s.box = box;
  }
  cover.require_all(list);
}

std::string locate_attribute_names(const std::string& root) {
  std::filesystem::path r(root);
  if (!r.has_filename()) r = r.parent_path();  // "root/" names the same folder
  const std::filesystem::path candidates[] = {r / "attributes" / "attributes.txt",
                                              r / "attributes.txt",
                                              r.parent_path() / "attributes.txt"};
  std::error_code ec;
  for (const auto& c : candidates)
    if (std::filesystem::is_regular_file(c, ec)) return c.string();
  throw Error(detail::concat(
      kWhat, ": attributes.txt not found in ", candidates[0].parent_path().string(), ", ",
      candidates[1].parent_path().string(), " or ", candidates[2].parent_path().string(),
      " (it ships beside the CUB_200_2011 folder; copy it into ", root, ")"));
}

// attribute id -> its column in Sample::attributes, for the chosen names.
std::unordered_map<int64_t, size_t> attribute_columns(const std::string& root,
                                                      const std::vector<std::string>& names) {
  ListFile list(locate_attribute_names(root), detail::concat(kWhat, " attribute names"));
  std::unordered_map<std::string, int64_t> id_of;
  while (list.next()) {
    list.expect_fields(2, "attribute_id name");
    if (!id_of.emplace(std::string(list.fields()[1]), list.integer(0, "attribute id")).second)
      list.fail("attribute '", list.fields()[1], "' is listed twice");
  }
  std::unordered_map<int64_t, size_t> columns;
  for (size_t c = 0; c < names.size(); ++c) {
    auto it = id_of.find(names[c]);
    DML_CHECK(it != id_of.end(), kWhat, ": no attribute named '", names[c], "' in ", list.path(),
              " (names look like has_wing_color::blue)");
    DML_CHECK(columns.emplace(it->second, c).second, kWhat, ": attribute '", names[c],
              "' is asked for twice");
  }
  return columns;
}

void read_attributes(const std::string& root, const std::vector<std::string>& names,
                     const Index& index, SampleSet& set) {
  const std::unordered_map<int64_t, size_t> columns = attribute_columns(root, names);
  set.attribute_names = names;
  set.attribute_values.assign(names.size(), yes_no_names());
  for (Sample& s : set.samples) s.attributes.assign(names.size(), -1);  // -1: no row yet
  ListFile list(join_path(root, "attributes/image_attribute_labels.txt"), kWhat);
  while (list.next()) {
    if (list.fields().size() != 5 && list.fields().size() != 6)
      list.fail("expected 5 fields (image_id attribute_id is_present certainty_id time), got ",
                list.fields().size());
    auto column = columns.find(list.integer(1, "attribute id"));
    if (column == columns.end()) continue;
    const int64_t id = list.integer(0, "image id");
    int64_t& value = set.samples[index.at(id, list)].attributes[column->second];
    if (value != -1) list.fail("image ", id, " has a second row for attribute ", column->first);
    value = list.integer(2, "is_present");
    if (value != 0 && value != 1) list.fail("is_present must be 0 or 1, got ", value);
  }
  for (size_t i = 0; i < set.samples.size(); ++i)
    for (size_t c = 0; c < names.size(); ++c)
      DML_CHECK(set.samples[i].attributes[c] != -1, kWhat, " ", list.path(), ": no row for image ",
                index.key(i), " and attribute '", names[c], "'");
}

}  // namespace

SampleSet read_cub200(const std::string& root, Split split, const Cub200Options& options) {
  check_class_split(split, kWhat);
  Index index(join_path(root, "images.txt"));
  SampleSet set = read_images(root, options, index);
  read_labels(root, index, set);
  read_class_names(root, set);
  if (options.boxes) read_boxes(root, index, set);
  if (!options.attributes.empty()) read_attributes(root, options.attributes, index, set);
  return select_split(set, split, kCub200Split, "cub200");
}

}  // namespace dml::data
