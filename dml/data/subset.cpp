#include "dml/data/subset.h"

#include <algorithm>
#include <functional>
#include <sstream>

#include "base/error.h"

namespace dml::data {

namespace {

SampleSet select_samples(const SampleSet& set, std::string name,
                         const std::function<bool(const Sample&)>& keep) {
  SampleSet out;
  out.name = std::move(name);
  out.attribute_names = set.attribute_names;
  out.class_names = set.class_names;
  out.attribute_values = set.attribute_values;
  out.pixels = set.pixels;
  for (const Sample& s : set.samples)
    if (keep(s)) out.samples.push_back(s);
  return out;
}

}  // namespace

void check_class_split(Split split, std::string_view dataset) {
  DML_CHECK(split == Split::train || split == Split::test || split == Split::all, dataset,
            " has no split '", split_name(split), "'; use train, test or all");
}

SampleSet select_split(const SampleSet& set, Split split, const ClassSplit& classes,
                       std::string_view name) {
  check_class_split(split, name);
  const std::string full = detail::concat(name, " ", split_name(split));
  if (split == Split::all) {
    SampleSet out = set;
    out.name = full;
    return out;
  }
  return select_classes(set, split == Split::train ? classes.train : classes.test, full);
}

SampleSet select_classes(const SampleSet& set, ClassRange range, std::string name) {
  DML_CHECK(range.first <= range.last, "select_classes on ", set.name, ": empty class range [",
            range.first, ", ", range.last, "]");
  return select_samples(set, std::move(name),
                        [&](const Sample& s) { return range.contains(s.label); });
}

SampleSet select_labels(const SampleSet& set, const std::vector<int64_t>& labels,
                        std::string name) {
  std::vector<int64_t> sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  return select_samples(set, std::move(name), [&](const Sample& s) {
    return std::binary_search(sorted.begin(), sorted.end(), s.label);
  });
}

int64_t attribute_column(const SampleSet& set, const std::string& name) {
  auto it = std::find(set.attribute_names.begin(), set.attribute_names.end(), name);
  if (it == set.attribute_names.end()) {
    std::ostringstream have;
    for (size_t i = 0; i < set.attribute_names.size(); ++i)
      have << (i ? ", " : "") << set.attribute_names[i];
    throw Error(detail::concat(set.name, " has no attribute '", name,
                               "'; it has: ", set.attribute_names.empty() ? "none" : have.str()));
  }
  return int64_t(it - set.attribute_names.begin());
}

SampleSet select_attributes(const SampleSet& set, const std::vector<std::string>& names) {
  std::vector<size_t> columns;
  for (const std::string& name : names) columns.push_back(size_t(attribute_column(set, name)));
  SampleSet out = set;
  out.attribute_names = names;
  out.attribute_values.clear();
  for (size_t c : columns) out.attribute_values.push_back(attribute_value_names(set, c));
  for (Sample& s : out.samples) {
    std::vector<int64_t> values;
    for (size_t c : columns) values.push_back(s.attributes.at(c));
    s.attributes = std::move(values);
  }
  return out;
}

}  // namespace dml::data
