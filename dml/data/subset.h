#pragma once
// Subsets of a SampleSet. The zero-shot DML protocol trains on one range of
// classes and tests on the rest (CUB-200-2011: 1-100 / 101-200; Cars196:
// 1-98 / 99-196), so the readers and the tools pick classes through one
// helper. Subsets share the in-memory pixels of the set they come from.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dml/data/sample.h"

namespace dml::data {

// An inclusive range of class labels.
struct ClassRange {
  int64_t first = 0, last = 0;
  bool contains(int64_t label) const { return label >= first && label <= last; }
};

// A dataset's zero-shot split: disjoint class ranges for training and testing.
struct ClassSplit {
  ClassRange train, test;
};

// Throws unless `split` is train, test or all, the parts a class split has.
void check_class_split(Split split, std::string_view dataset);

// The samples of `split` by `classes` (Split::all keeps every sample), named
// "<name> <split>".
SampleSet select_split(const SampleSet& set, Split split, const ClassSplit& classes,
                       std::string_view name);

// The samples whose label lies in `range`, in their order; `name` becomes the
// subset's name.
SampleSet select_classes(const SampleSet& set, ClassRange range, std::string name);

// The samples whose label is one of `labels`, in their order.
SampleSet select_labels(const SampleSet& set, const std::vector<int64_t>& labels, std::string name);

// The same samples keeping only the named attributes, in the order given; a
// name the set lacks throws listing the names it has.
SampleSet select_attributes(const SampleSet& set, const std::vector<std::string>& names);

// The column of the named attribute in each sample's attributes; a name the
// set lacks throws listing the names it has.
int64_t attribute_column(const SampleSet& set, const std::string& name);

}  // namespace dml::data
