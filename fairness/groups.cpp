#include "fairness/groups.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "base/error.h"

namespace dml::fairness {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Position of the subgroup whose count `better` prefers over all others (the
// lowest value on ties, as positions are in value order), skipping `skip`.
template <class Better>
size_t pick_by_count(const Subgroups& s, Better better, size_t skip) {
  size_t best = s.values.size();
  for (size_t g = 0; g < s.values.size(); ++g)
    if (g != skip && (best == s.values.size() || better(s.counts[g], s.counts[best]))) best = g;
  return best;
}

}  // namespace

size_t Subgroups::index_of(int64_t value) const {
  const auto it = std::lower_bound(values.begin(), values.end(), value);
  DML_CHECK(it != values.end() && *it == value, "subgroups: attribute value ", value,
            " is not present in the data");
  return size_t(it - values.begin());
}

Subgroups find_subgroups(const std::vector<int64_t>& group_ids, int64_t minority, const char* what,
                         int64_t majority) {
  std::map<int64_t, int64_t> count_of;
  for (int64_t v : group_ids) ++count_of[v];
  Subgroups s;
  for (const auto& [value, count] : count_of) {
    s.values.push_back(value);
    s.counts.push_back(count);
  }
  DML_CHECK(s.values.size() >= 2, what, ": the sensitive attribute has ", s.values.size(),
            " value(s) in the data; fairness gaps need at least two subgroups");
  const auto fewer = [](int64_t a, int64_t b) { return a < b; };
  const auto more = [](int64_t a, int64_t b) { return a > b; };
  if (minority == kSmallestGroup) {
    s.minority = s.values[pick_by_count(s, fewer, s.values.size())];
  } else {
    DML_CHECK(count_of.count(minority), what, ": minority value ", minority,
              " is not an attribute value of the data; pass one present or -1 for the smallest "
              "subgroup");
    s.minority = minority;
  }
  if (majority == kLargestGroup) {
    s.majority = s.values[pick_by_count(s, more, s.index_of(s.minority))];
  } else {
    DML_CHECK(count_of.count(majority) && majority != s.minority, what, ": majority value ",
              majority, " is not an attribute value of the data other than the minority ",
              s.minority, "; pass one present or -1 for the largest other subgroup");
    s.majority = majority;
  }
  return s;
}

std::string subgroup_name(const std::string& attribute, const data::ValueNames& names,
                          int64_t value) {
  return attribute + "=" + data::value_name(names, value);
}

double GroupComparison::value(size_t g, const std::string& name) const {
  DML_CHECK(g < per_group.size(), "group comparison: subgroup position ", g, " out of ",
            per_group.size());
  for (size_t m = 0; m < names.size(); ++m)
    if (names[m] == name) return per_group[g][m];
  throw Error(detail::concat("group comparison has no metric '", name, "'"));
}

GroupComparison compare_groups(const Subgroups& subgroups, std::vector<std::string> names,
                               std::vector<std::vector<double>> per_group,
                               std::vector<double> overall) {
  DML_CHECK(per_group.size() == subgroups.values.size(), "compare_groups: ", per_group.size(),
            " rows of values for ", subgroups.values.size(), " subgroups");
  for (const auto& row : per_group)
    DML_CHECK(row.size() == names.size(), "compare_groups: a subgroup has ", row.size(),
              " values for ", names.size(), " metrics");
  DML_CHECK(overall.empty() || overall.size() == names.size(), "compare_groups: ", overall.size(),
            " overall values for ", names.size(), " metrics");
  GroupComparison c;
  const size_t minority = subgroups.index_of(subgroups.minority);
  const size_t majority = subgroups.index_of(subgroups.majority);
  for (size_t m = 0; m < names.size(); ++m) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    int64_t with_value = 0;
    for (const auto& row : per_group) {
      if (std::isnan(row[m])) continue;
      lo = std::min(lo, row[m]);
      hi = std::max(hi, row[m]);
      ++with_value;
    }
    c.gap_max_min.push_back(with_value >= 2 ? hi - lo : kNaN);
    c.gap_minority_majority.push_back(per_group[minority][m] - per_group[majority][m]);
  }
  c.names = std::move(names);
  c.per_group = std::move(per_group);
  c.overall = std::move(overall);
  return c;
}

}  // namespace dml::fairness
