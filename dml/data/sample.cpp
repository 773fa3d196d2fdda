#include "dml/data/sample.h"

#include <array>
#include <utility>

#include "base/error.h"

namespace dml::data {

namespace {

constexpr std::array<std::pair<Split, const char*>, 6> kSplitNames{{{Split::train, "train"},
                                                                    {Split::test, "test"},
                                                                    {Split::val, "val"},
                                                                    {Split::query, "query"},
                                                                    {Split::gallery, "gallery"},
                                                                    {Split::all, "all"}}};

}  // namespace

const char* split_name(Split split) {
  for (const auto& [value, name] : kSplitNames)
    if (value == split) return name;
  throw Error(detail::concat("split_name: invalid Split value ", int(split)));
}

Split parse_split(std::string_view name) {
  for (const auto& [value, text] : kSplitNames)
    if (name == text) return value;
  throw Error(detail::concat("unknown split '", name,
                             "'; expected one of train, test, val, query, gallery, all"));
}

const ValueNames& attribute_value_names(const SampleSet& set, size_t column) {
  static const ValueNames none;
  return column < set.attribute_values.size() ? set.attribute_values[column] : none;
}

}  // namespace dml::data
