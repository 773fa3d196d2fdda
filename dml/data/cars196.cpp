#include "dml/data/cars196.h"

#include <cmath>
#include <filesystem>

#include "dml/data/class_folders.h"
#include "dml/data/list_file.h"
#include "dml/data/mat_file.h"

namespace dml::data {

namespace {

constexpr const char* kWhat = "Cars196";

// A MAT value that must be a whole number in [low, high].
int64_t whole(const MatArray& a, const std::string& what, int64_t low, int64_t high) {
  const double v = a.scalar(what);
  DML_CHECK(v == std::floor(v) && v >= double(low) && v <= double(high), what, ": ", v,
            " is not a whole number in [", low, ", ", high, "]");
  return int64_t(v);
}

}  // namespace

SampleSet read_cars196_devkit(const std::string& root, Split split, const ReaderOptions& options) {
  check_class_split(split, kWhat);
  const MatFile mat = read_mat_file(join_path(root, "cars_annos.mat"));
  const MatArray& annotations = mat.at("annotations");
  const std::string where = detail::concat("MAT file ", mat.path, ": annotations");
  DML_CHECK(annotations.type == MatClass::structure && annotations.numel() > 0, where,
            " is not a struct array of annotations (is this the devkit's cars_annos.mat?)");
  int64_t classes = kCars196Classes;
  if (mat.has("class_names")) classes = mat.at("class_names").numel();

  SampleSet set;
  for (int64_t i = 0; i < annotations.numel(); ++i) {
    const std::string at = detail::concat(where, "(", i + 1, ")");
    auto field = [&](const char* name) -> const MatArray& {
      return annotations.field(i, name, detail::concat(at, ".", name));
    };
    auto number = [&](const char* name, int64_t low, int64_t high) {
      return whole(field(name), detail::concat(at, ".", name), low, high);
    };
    Sample s;
    s.path = join_path(root, field("relative_im_path").text(at + ".relative_im_path"));
    if (options.check_files) require_image_file(s.path, at);
    s.label = number("class", 1, classes);
    const int64_t kMaxCoord = int64_t(1) << 24;
    const int64_t x1 = number("bbox_x1", 0, kMaxCoord), y1 = number("bbox_y1", 0, kMaxCoord);
    const int64_t x2 = number("bbox_x2", 0, kMaxCoord), y2 = number("bbox_y2", 0, kMaxCoord);
    DML_CHECK(x2 > x1 && y2 > y1, at, ": the box (", x1, ", ", y1, ") - (", x2, ", ", y2,
              ") has no area");
    s.box = BoundingBox{float(x1), float(y1), float(x2 - x1), float(y2 - y1)};
    set.samples.push_back(std::move(s));
  }
  return select_split(set, split, kCars196Split, "cars196");
}

SampleSet read_cars196_folders(const std::string& root, Split split) {
  check_class_split(split, kWhat);
  return select_split(read_class_folders(root, kWhat).set, split, kCars196Split, "cars196");
}

SampleSet read_cars196(const std::string& root, Split split, const ReaderOptions& options) {
  std::error_code ec;
  if (std::filesystem::exists(join_path(root, "cars_annos.mat"), ec))
    return read_cars196_devkit(root, split, options);
  return read_cars196_folders(root, split);
}

}  // namespace dml::data
