#include "dml/data/class_folders.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

#include "base/error.h"

namespace dml::data {

namespace {

namespace fs = std::filesystem;

bool is_image_name(const std::string& name) {
  std::string ext = fs::path(name).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

// The names of the entries of `dir` that pass `keep`, sorted.
template <class Keep>
std::vector<std::string> sorted_entries(const fs::path& dir, const std::string& what, Keep keep) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  DML_CHECK(!ec, "cannot read ", what, " folder ", dir.string(), ": ", ec.message(),
            " (check the dataset root)");
  std::vector<std::string> names;
  for (; it != end; it.increment(ec)) {
    DML_CHECK(!ec, "cannot read ", what, " folder ", dir.string(), ": ", ec.message());
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] != '.' && keep(*it)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

ClassFolders read_class_folders(const std::string& root, const std::string& what) {
  ClassFolders out;
  out.set.name = what;
  out.class_names = sorted_entries(root, what, [](const fs::directory_entry& e) {
    std::error_code ec;
    return e.is_directory(ec);
  });
  DML_CHECK(!out.class_names.empty(), what, " folder ", root,
            " holds no class folders (expected root/<class name>/<image>.jpg)");
  std::map<std::string_view, const std::string*> by_trimmed;
  for (size_t c = 0; c < out.class_names.size(); ++c) {
    const auto [seen, fresh] =
        by_trimmed.emplace(trim_spaces(out.class_names[c]), &out.class_names[c]);
    DML_CHECK(fresh, what, " class folders '", *seen->second, "' and '", out.class_names[c],
              "' in ", root,
              " differ only in surrounding spaces and would read as one class "
              "name; merge or rename them");
    const fs::path dir = fs::path(root) / out.class_names[c];
    DML_CHECK(is_valid_utf8(out.class_names[c]), what, " class folder ", root, "/",
              escape_bytes(out.class_names[c]),
              ": the folder name is not valid UTF-8 (it names the class in reports); rename it");
    out.set.class_names[int64_t(c) + 1] = out.class_names[c];
    const std::vector<std::string> files =
        sorted_entries(dir, what, [](const fs::directory_entry& e) {
          std::error_code ec;
          return e.is_regular_file(ec) && is_image_name(e.path().filename().string());
        });
    for (const std::string& file : files) {
      Sample s;
      s.path = (dir / file).string();
      s.label = int64_t(c) + 1;
      out.set.samples.push_back(std::move(s));
    }
  }
  DML_CHECK(!out.set.samples.empty(), what, " folder ", root,
            " holds class folders but no .jpg, .jpeg or .png images in them");
  return out;
}

}  // namespace dml::data
