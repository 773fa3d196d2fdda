#include "fairness/audit_intervals.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "base/error.h"
#include "dml/eval/retrieval_metrics.h"
#include "fairness/audit_json.h"

namespace dml::fairness {

namespace {

Json pair_json(const Interval& i) {
  return Json::array({json_number(i.low), json_number(i.high)});
}

const std::vector<double>& per_query(const FinDmlReport& report, const std::string& name) {
  const auto& names = report.retrieval.names;
  const auto it = std::find(names.begin(), names.end(), name);
  DML_CHECK(it != names.end() && report.retrieval_per_query.size() == names.size(),
            "audit: no per-query ", name, " to resample");
  return report.retrieval_per_query[size_t(it - names.begin())];
}

}  // namespace

Json retrieval_intervals(const FinDmlReport& report, const std::vector<int64_t>& group_ids,
                         const BootstrapOptions& options) {
  Json out = {{"method", "stratified bootstrap over queries, percentile interval"},
              {"confidence", options.confidence},
              {"resamples", options.resamples}};
  for (const std::string& name : report.retrieval.names) {
    const GroupedBootstrap b =
        bootstrap_grouped_mean(per_query(report, name), group_ids, report.subgroups, options);
    Json groups = Json::object();
    for (size_t g = 0; g < report.subgroups.values.size(); ++g)
      groups[std::to_string(report.subgroups.values[g])] = pair_json(b.per_group[g]);
    out["metrics"][name] = {{"overall", pair_json(b.overall)},
                            {"per_group", groups},
                            {"gap_minority_majority", pair_json(b.gap_minority_majority)}};
  }
  return out;
}

Json intersections(const FinDmlReport& report, const std::vector<std::string>& attribute_names,
                   const std::vector<data::ValueNames>& value_names,
                   const std::vector<std::vector<int64_t>>& attributes,
                   const BootstrapOptions& options) {
  DML_CHECK(attribute_names.size() >= 2, "audit: intersections need two attributes or more, got ",
            attribute_names.size());
  const std::vector<double>& recall = per_query(report, "recall@1");
  const std::vector<double>& map_r = per_query(report, "map@r");
  DML_CHECK(attributes.size() == recall.size(), "audit: ", attributes.size(),
            " attribute rows for ", recall.size(), " queries");

  // Every combination present gets an id, in ascending order of its values.
  std::map<std::vector<int64_t>, int64_t> id_of;
  for (const std::vector<int64_t>& row : attributes) {
    DML_CHECK(row.size() == attribute_names.size(), "audit: an attribute row has ", row.size(),
              " values for ", attribute_names.size(), " attributes");
    id_of.emplace(row, 0);
  }
  int64_t next = 0;
  for (auto& [values, id] : id_of) id = next++;
  std::vector<int64_t> ids;
  for (const std::vector<int64_t>& row : attributes) ids.push_back(id_of.at(row));

  const std::vector<eval::GroupMean> r1 = eval::breakdown(recall, ids);
  const std::vector<eval::GroupMean> mr = eval::breakdown(map_r, ids);
  Subgroups groups;
  for (const eval::GroupMean& g : r1) {
    groups.values.push_back(g.group);
    groups.counts.push_back(int64_t(std::count(ids.begin(), ids.end(), g.group)));
  }
  // The worst-off and best-off intersections by Recall@1 (unscored ones
  // left out); the "gap" is worst - best.
  int64_t worst = -1, best = -1;
  for (const eval::GroupMean& g : r1) {
    if (std::isnan(g.mean)) continue;
    if (worst < 0 || g.mean < r1[size_t(worst)].mean) worst = g.group;
    if (best < 0 || g.mean > r1[size_t(best)].mean) best = g.group;
  }
  DML_CHECK(worst >= 0, "audit: no intersection has a scored query");
  groups.minority = worst;
  groups.majority = best;
  const GroupedBootstrap b = bootstrap_grouped_mean(recall, ids, groups, options);

  Json list = Json::array();
  std::vector<std::string> names(id_of.size());
  for (const auto& [values, id] : id_of) {
    static const data::ValueNames unnamed;
    std::string name;
    for (size_t a = 0; a < values.size(); ++a) {
      if (a) name += ',';
      name += subgroup_name(attribute_names[a], a < value_names.size() ? value_names[a] : unnamed,
                            values[a]);
    }
    names[size_t(id)] = name;
    list.push_back({{"name", name},
                    {"values", values},
                    {"count", groups.counts[size_t(id)]},
                    {"recall@1", json_number(r1[size_t(id)].mean)},
                    {"recall@1_interval", pair_json(b.per_group[size_t(id)])},
                    {"map@r", json_number(mr[size_t(id)].mean)}});
  }
  return {{"attributes", attribute_names},
          {"groups", list},
          {"worst", names[size_t(worst)]},
          {"best", names[size_t(best)]},
          {"gap_worst_best",
           {{"recall@1", json_number(r1[size_t(worst)].mean - r1[size_t(best)].mean)},
            {"interval", pair_json(b.gap_minority_majority)}}}};
}

}  // namespace dml::fairness
