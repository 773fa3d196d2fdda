#include "fairness/audit_json.h"

#include <cmath>
#include <string>

namespace dml::fairness {

namespace {

// {"recall@1": ..., ...} from one value per metric.
Json named_numbers(const std::vector<std::string>& names, const std::vector<double>& values) {
  Json out = Json::object();
  for (size_t m = 0; m < names.size(); ++m) out[names[m]] = json_number(values[m]);
  return out;
}

// {"<value>": per-group entry} with entries from `entry(g)`.
template <class Entry>
Json by_group_value(const Subgroups& subgroups, Entry entry) {
  Json out = Json::object();
  for (size_t g = 0; g < subgroups.values.size(); ++g)
    out[std::to_string(subgroups.values[g])] = entry(g);
  return out;
}

// "retrieval" and "alignment": every value an object keyed by metric name.
Json comparison_json(const Subgroups& subgroups, const GroupComparison& c) {
  Json out = Json::object();
  if (!c.overall.empty()) out["overall"] = named_numbers(c.names, c.overall);
  out["per_group"] =
      by_group_value(subgroups, [&](size_t g) { return named_numbers(c.names, c.per_group[g]); });
  out["gap_max_min"] = named_numbers(c.names, c.gap_max_min);
  out["gap_minority_majority"] = named_numbers(c.names, c.gap_minority_majority);
  return out;
}

// A downstream result: the single metric's values as plain numbers.
Json single_metric_json(const Subgroups& subgroups, const GroupComparison& c) {
  DML_CHECK(c.names.size() == 1 && c.overall.size() == 1,
            "audit json: a downstream result must hold one metric with an overall value");
  Json out = Json::object();
  out["overall"] = json_number(c.overall[0]);
  out["per_group"] =
      by_group_value(subgroups, [&](size_t g) { return json_number(c.per_group[g][0]); });
  out["gap_max_min"] = json_number(c.gap_max_min[0]);
  out["gap_minority_majority"] = json_number(c.gap_minority_majority[0]);
  return out;
}

}  // namespace

Json json_number(double value) {
  return std::isfinite(value) ? Json(value) : Json(nullptr);
}

Json to_json(const FinDmlReport& report) {
  const Subgroups& s = report.subgroups;
  Json out = Json::object();
  out["minority"] = s.minority;
  out["majority"] = s.majority;
  Json groups = Json::array();
  for (size_t g = 0; g < s.values.size(); ++g)
    groups.push_back(
        Json{{"value", s.values[g]},
             {"name", subgroup_name(report.attribute, report.value_names, s.values[g])},
             {"count", s.counts[g]}});
  out["groups"] = std::move(groups);
  out["sampled"] = Json{{"pairs", report.sampled}, {"max_pairs", report.max_pairs}};
  out["retrieval"] = comparison_json(s, report.retrieval);
  out["alignment"] = comparison_json(s, report.alignment);
  return out;
}

Json to_json(const LeakageResult& leakage) {
  return Json{{"balanced_accuracy", json_number(leakage.balanced_accuracy)},
              {"knn_balanced_accuracy", json_number(leakage.knn_balanced_accuracy)},
              {"chance", json_number(leakage.chance)},
              {"probe", "logistic regression, 50/50 split"},
              {"knn_probe", "k-NN majority vote, k = " + std::to_string(leakage.knn_k)}};
}

Json to_json(const DownstreamReport& downstream) {
  Json out = Json::object();
  for (const DownstreamResult& r : downstream.results)
    out[r.name] = single_metric_json(downstream.subgroups, r.accuracy);
  return out;
}

}  // namespace dml::fairness
