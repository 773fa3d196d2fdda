#include "dml/data/inshop.h"

#include "dml/data/list_file.h"

namespace dml::data {

namespace {

constexpr const char* kWhat = "In-Shop";

}  // namespace

SampleSet read_inshop(const std::string& root, Split split, const ReaderOptions& options) {
  DML_CHECK(split == Split::train || split == Split::query || split == Split::gallery ||
                split == Split::all,
            kWhat, " has no split '", split_name(split), "'; use train, query, gallery or all");
  ListFile list(join_path(root, "list_eval_partition.txt"), kWhat);
  if (!list.next()) list.fail("the file is empty; expected the image count");
  list.expect_fields(1, "the image count");
  const int64_t count = list.integer(0, "image count");
  list.expect_header({"image_name", "item_id", "evaluation_status"});

  SampleSet set;
  set.name = detail::concat("inshop ", split_name(split));
  int64_t rows = 0;
  while (list.next()) {
    ++rows;
    list.expect_fields(3, "image_name item_id evaluation_status");
    const std::string_view item = list.fields()[1], status = list.fields()[2];
    if (status != "train" && status != "query" && status != "gallery")
      list.fail("evaluation status '", status, "' is not train, query or gallery");
    const Split part = parse_split(status);
    int64_t label = 0;
    if (item.substr(0, 3) != "id_" || !parse_integer(item.substr(3), label) || label < 0)
      list.fail("item id '", item, "' is not of the form id_00000001");
    if (split != Split::all && part != split) continue;
    Sample s;
    s.path = join_path(root, list.fields()[0]);
    if (options.check_files) require_image_file(s.path, list.where());
    s.label = label;
    set.samples.push_back(std::move(s));
  }
  list.require_images(2);
  DML_CHECK(rows == count, kWhat, " ", list.path(), ": line 1 says ", count, " images but ", rows,
            " follow the header (the file is truncated or damaged)");
  return set;
}

}  // namespace dml::data
