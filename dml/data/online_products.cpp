#include "dml/data/online_products.h"

#include "dml/data/list_file.h"

namespace dml::data {

namespace {

constexpr const char* kWhat = "Stanford Online Products";

void read_list(const std::string& root, const std::string& file, const ReaderOptions& options,
               SampleSet& set) {
  ListFile list(join_path(root, file), kWhat);
  list.expect_header({"image_id", "class_id", "super_class_id", "path"});
  while (list.next()) {
    list.expect_fields(4, "image_id class_id super_class_id path");
    list.integer(0, "image id");
    Sample s;
    s.label = list.integer(1, "class id");
    if (s.label < 1) list.fail("class id ", s.label, " must be >= 1");
    const int64_t super_class = list.integer(2, "super class id");
    if (super_class < 1) list.fail("super class id ", super_class, " must be >= 1");
    s.attributes = {super_class};
    s.path = join_path(root, list.fields()[3]);
    if (options.check_files) require_image_file(s.path, list.where());
    set.samples.push_back(std::move(s));
  }
  list.require_images(1);
}

}  // namespace

SampleSet read_online_products(const std::string& root, Split split, const ReaderOptions& options) {
  DML_CHECK(split == Split::train || split == Split::test || split == Split::all, kWhat,
            " has no split '", split_name(split), "'; use train, test or all");
  SampleSet set;
  set.name = detail::concat("sop ", split_name(split));
  set.attribute_names = {"super_class"};
  if (split != Split::test) read_list(root, "Ebay_train.txt", options, set);
  if (split != Split::train) read_list(root, "Ebay_test.txt", options, set);
  return set;
}

}  // namespace dml::data
