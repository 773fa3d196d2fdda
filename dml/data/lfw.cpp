#include "dml/data/lfw.h"

#include <cstdio>

#include "dml/data/class_folders.h"
#include "dml/data/list_file.h"

namespace dml::data {

namespace {

// root/<name>/<name>_<number, 4 digits>.jpg, the name and the number taken
// from the given fields of the current line.
std::string image_path(const ListFile& list, const std::string& root, size_t name_at,
                       size_t number_at) {
  const std::string name(list.fields()[name_at]);
  const int64_t number = list.integer(number_at, "image number");
  if (number < 1 || number > 9999) list.fail("image number ", number, " is not in 1..9999");
  char file[16];
  std::snprintf(file, sizeof file, "_%04d.jpg", int(number));
  return join_path(join_path(root, name), name + file);
}

}  // namespace

SampleSet read_lfw(const std::string& root) {
  return read_class_folders(root, "lfw").set;
}

std::vector<LfwPair> read_lfw_pairs(const std::string& pairs_file, const std::string& root,
                                    const ReaderOptions& options) {
  ListFile list(pairs_file, "LFW pairs");
  if (!list.next()) list.fail("the file is empty; expected the header `folds pairs` or `pairs`");
  if (list.fields().size() > 2) list.fail("expected the header `folds pairs` or `pairs`");
  const bool one_fold = list.fields().size() == 1;
  const int64_t folds = one_fold ? 1 : list.integer(0, "fold count");
  const int64_t per_kind = list.integer(one_fold ? 0 : 1, "pair count");
  if (folds < 1 || per_kind < 1) list.fail("the fold and pair counts must be >= 1");
  const int64_t per_fold = 2 * per_kind;

  std::vector<LfwPair> pairs;
  while (list.next()) {
    const int64_t index = int64_t(pairs.size());
    if (index == folds * per_fold)
      list.fail("more lines than the header's ", folds, " folds of ", per_kind, " matched and ",
                per_kind, " mismatched pairs");
    LfwPair p;
    p.fold = index / per_fold;
    if (list.fields().size() == 3) {
      p.same = true;
      p.path_a = image_path(list, root, 0, 1);
      p.path_b = image_path(list, root, 0, 2);
    } else if (list.fields().size() == 4) {
      p.path_a = image_path(list, root, 0, 1);
      p.path_b = image_path(list, root, 2, 3);
    } else {
      list.fail("expected `name n1 n2` (matched) or `name1 n1 name2 n2` (mismatched), got ",
                list.fields().size(), " fields");
    }
    if (options.check_files) {
      require_image_file(p.path_a, list.where());
      require_image_file(p.path_b, list.where());
    }
    pairs.push_back(std::move(p));
  }
  DML_CHECK(int64_t(pairs.size()) == folds * per_fold, "LFW pairs ", pairs_file,
            ": the header promises ", folds * per_fold, " pairs but the file holds ", pairs.size(),
            " (the file is truncated)");
  return pairs;
}

}  // namespace dml::data
