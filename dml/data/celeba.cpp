#include "dml/data/celeba.h"

#include <filesystem>

#include "dml/data/list_file.h"

namespace dml::data {

namespace {

constexpr const char* kWhat = "CelebA";
using Index = ImageIndex<std::string>;

// root/<file>, else root/Anno/<file> or root/Eval/<file>; the first when none
// exists, so the error names it.
std::string locate(const std::string& root, const std::string& file) {
  const std::string direct = join_path(root, file);
  std::error_code ec;
  if (std::filesystem::exists(direct, ec)) return direct;
  for (const char* dir : {"Anno", "Eval"}) {
    const std::string nested = join_path(join_path(root, dir), file);
    if (std::filesystem::exists(nested, ec)) return nested;
  }
  return direct;
}

void read_attributes(const std::string& root, const Index& index, SampleSet& set) {
  ListFile list(locate(root, "list_attr_celeba.txt"), kWhat);
  if (!list.next()) list.fail("the file is empty; expected the image count");
  list.expect_fields(1, "the image count");
  const int64_t count = list.integer(0, "image count");
  if (!list.next()) list.fail("the file ends before the line of attribute names");
  for (std::string_view name : list.fields()) {
    if (!is_valid_utf8(name))
      list.fail("attribute name '", escape_bytes(name),
                "' is not valid UTF-8; save the file as UTF-8");
    set.attribute_names.emplace_back(name);
    set.attribute_values.push_back(yes_no_names());
  }
  const size_t n = set.attribute_names.size();
  Index::Coverage cover(index);
  int64_t rows = 0;
  while (list.next()) {
    ++rows;
    if (list.fields().size() != n + 1)
      list.fail("expected the file name and ", n, " attribute values, got ", list.fields().size(),
                " fields");
    Sample& s = set.samples[cover.mark(std::string(list.fields()[0]), list)];
    s.attributes.resize(n);
    for (size_t a = 0; a < n; ++a) {
      const int64_t v = list.integer(a + 1, set.attribute_names[a]);
      if (v != 1 && v != -1) list.fail(set.attribute_names[a], " is ", v, "; expected 1 or -1");
      s.attributes[a] = v == 1 ? 1 : 0;
    }
  }
  cover.require_all(list);
  DML_CHECK(rows == count, kWhat, " ", list.path(), ": line 1 says ", count, " images but ", rows,
            " follow the attribute names (the file is truncated or damaged)");
}

// The partition of each image, in index order.
std::vector<Split> read_partition(const std::string& root, const Index& index) {
  ListFile list(locate(root, "list_eval_partition.txt"), kWhat);
  std::vector<Split> parts(index.size(), Split::all);
  Index::Coverage cover(index);
  while (list.next()) {
    list.expect_fields(2, "image partition");
    const size_t i = cover.mark(std::string(list.fields()[0]), list);
    const int64_t p = list.integer(1, "partition");
    if (p < 0 || p > 2) list.fail("partition ", p, " is not 0 (train), 1 (val) or 2 (test)");
    parts[i] = p == 0 ? Split::train : p == 1 ? Split::val : Split::test;
  }
  cover.require_all(list);
  return parts;
}

}  // namespace

SampleSet read_celeba(const std::string& root, Split split, const ReaderOptions& options) {
  DML_CHECK(
      split == Split::train || split == Split::val || split == Split::test || split == Split::all,
      kWhat, " has no split '", split_name(split), "'; use train, val, test or all");
  ListFile identities(locate(root, "identity_CelebA.txt"), kWhat);
  Index index(identities.path());
  SampleSet all;
  const std::string images = join_path(root, "img_align_celeba");
  while (identities.next()) {
    identities.expect_fields(2, "image identity");
    index.add(std::string(identities.fields()[0]), identities);
    Sample s;
    s.path = join_path(images, identities.fields()[0]);
    s.label = identities.integer(1, "identity");
    if (s.label < 1) identities.fail("identity ", s.label, " must be >= 1");
    all.samples.push_back(std::move(s));
  }
  identities.require_images();
  read_attributes(root, index, all);
  const std::vector<Split> parts = read_partition(root, index);

  SampleSet set;
  set.name = detail::concat("celeba ", split_name(split));
  set.attribute_names = all.attribute_names;
  set.attribute_values = all.attribute_values;
  for (size_t i = 0; i < all.samples.size(); ++i) {
    if (split != Split::all && parts[i] != split) continue;
    if (options.check_files) require_image_file(all.samples[i].path, identities.path());
    set.samples.push_back(std::move(all.samples[i]));
  }
  return set;
}

}  // namespace dml::data
