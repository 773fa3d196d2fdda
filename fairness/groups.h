#pragma once
// The subgroups of a sensitive attribute, which two of them the fairness gaps
// compare, and the comparison of metric values across them.
//
// The minority and the majority are the training split's: the attribute
// value rarest in training and the most common other one (the audit passes
// both). Where they are not given (embeddings without their training data),
// the minority is the smallest subgroup of the data being audited and the
// majority the largest other one. Ties go to the lowest value.
//
// Every signed gap is minority - majority: negative means the minority is
// worse off for a metric where higher is better (Recall@k, MAP@R, accuracy).
#include <cstdint>
#include <string>
#include <vector>

#include "dml/data/value_names.h"

namespace dml::fairness {

// Passed as the minority: take the smallest subgroup. (So -1 itself cannot be
// named as the minority; the readers map binary attributes to 0 / 1.) On a
// held-out split the subgroups are often equal in size and the smallest is
// then the lowest value: pass the training skew's minority explicitly.
constexpr int64_t kSmallestGroup = -1;
// Passed as the majority: take the largest subgroup other than the minority.
constexpr int64_t kLargestGroup = -1;

struct Subgroups {
  std::vector<int64_t> values;  // attribute values present, ascending
  std::vector<int64_t> counts;  // samples of each value
  int64_t minority = 0;         // attribute values (not positions)
  int64_t majority = 0;

  // Position of `value` in `values`; throws dml::Error if absent.
  size_t index_of(int64_t value) const;
};

// The subgroups of one attribute value per sample. `minority` must be a value
// present, or kSmallestGroup; `majority` a value present other than the
// minority, or kLargestGroup. Needs at least two values (a gap needs two
// subgroups); `what` names the caller in errors.
Subgroups find_subgroups(const std::vector<int64_t>& group_ids, int64_t minority, const char* what,
                         int64_t majority = kLargestGroup);

// How reports name a subgroup: "<attribute>=<value's name>" ("tone=inverted";
// "tone=1" where the value has no name).
std::string subgroup_name(const std::string& attribute, const data::ValueNames& names,
                          int64_t value);

// Named metric values per subgroup and the gaps between subgroups. A NaN value
// (a subgroup with nothing to score) is left out of gap_max_min, which is NaN
// when fewer than two subgroups have a value; gap_minority_majority is NaN
// when either side is.
struct GroupComparison {
  std::vector<std::string> names;              // metrics, report order
  std::vector<double> overall;                 // [M]; empty where the report has no overall
  std::vector<std::vector<double>> per_group;  // [G][M], G in Subgroups::values order
  std::vector<double> gap_max_min;             // [M]
  std::vector<double> gap_minority_majority;   // [M] minority - majority

  // The value of metric `name` for subgroup position g; throws if absent.
  double value(size_t g, const std::string& name) const;
};

GroupComparison compare_groups(const Subgroups& subgroups, std::vector<std::string> names,
                               std::vector<std::vector<double>> per_group,
                               std::vector<double> overall = {});

}  // namespace dml::fairness
