#pragma once
// The synthetic documents the report tests render: an audit document as
// fairness/AUDIT_SCHEMA.md fixes it, and a finDML sweep summary as
// fairness/report/sweep_report.h takes it. Shared by the gtest suites and
// write_sweep_report, the page the browser check opens.
#include <cmath>
#include <string>

#include "dml/json.h"

namespace dml::test {

// A document exactly as fairness/AUDIT_SCHEMA.md fixes it: two groups, the
// minority (tone=1) a quarter of the samples, three classes in the map.
inline Json synthetic_audit(const std::string& attribute = "tone") {
  Json doc = Json::parse(R"({
    "schema": "dml-audit-1",
    "model": "runs/x/model.safetensors",
    "dataset": "fashion-mnist-tone test classes 5-9",
    "attribute": "tone",
    "minority": 1,
    "majority": 0,
    "groups": [{"value": 0, "name": "tone=0", "count": 30},
               {"value": 1, "name": "tone=1", "count": 10}],
    "sampled": {"pairs": true, "max_pairs": 2000000},
    "retrieval": {
      "overall":   {"recall@1": 0.8011, "recall@2": 0.9022, "map@r": 0.3033, "r_precision": 0.4044},
      "per_group": {"0": {"recall@1": 0.8211, "recall@2": 0.9122, "map@r": 0.3133, "r_precision": 0.4144},
                    "1": {"recall@1": 0.7411, "recall@2": 0.8722, "map@r": 0.2733, "r_precision": 0.3744}},
      "gap_max_min":           {"recall@1": 0.08, "recall@2": 0.04, "map@r": 0.04, "r_precision": 0.04},
      "gap_minority_majority": {"recall@1": -0.08, "recall@2": -0.04, "map@r": -0.04, "r_precision": -0.04}
    },
    "alignment": {
      "per_group": {"0": {"intra_class": 0.5123, "inter_class": 1.6123, "uniformity": -2.1123},
                    "1": {"intra_class": 0.4456, "inter_class": 1.5456, "uniformity": -2.3456}},
      "gap_max_min": {"intra_class": 0.0667, "inter_class": 0.0667, "uniformity": 0.2333},
      "gap_minority_majority": {"intra_class": -0.0667, "inter_class": -0.0667, "uniformity": -0.2333}
    },
    "leakage": {"balanced_accuracy": 0.9345, "chance": 0.5, "probe": "logistic regression, 50/50 split"},
    "downstream": {
      "logistic_imbalanced": {"overall": 0.9001, "per_group": {"0": 0.9201, "1": 0.8501}, "gap_max_min": 0.07, "gap_minority_majority": -0.07},
      "logistic_balanced":   {"overall": 0.9002, "per_group": {"0": 0.9102, "1": 0.8902}, "gap_max_min": 0.02, "gap_minority_majority": -0.02},
      "knn_imbalanced":      {"overall": 0.8803, "per_group": {"0": 0.9003, "1": 0.8203}, "gap_max_min": 0.08, "gap_minority_majority": -0.08},
      "knn_balanced":        {"overall": 0.8804, "per_group": {"0": 0.8904, "1": null}, "gap_max_min": null, "gap_minority_majority": null}
    }
  })");
  Json points = Json::array(), labels = Json::array(), groups = Json::array();
  for (int i = 0; i < 40; ++i) {
    points.push_back({std::cos(i * 0.7) * (1 + i % 3), std::sin(i * 0.7) * (1 + i % 3)});
    labels.push_back(5 + i % 3);
    groups.push_back(i % 4 == 0 ? 1 : 0);
  }
  doc["embedding_map"] = {
      {"method", "pca"}, {"points", points}, {"labels", labels}, {"groups", groups}};
  doc["attribute"] = attribute;
  return doc;
}

inline Json interval(double estimate, double half_width) {
  return {{"estimate", estimate}, {"low", estimate - half_width}, {"high", estimate + half_width}};
}

// Three cells of parade.rho (0.25, 0.5, 1), baseline and PARADE in each:
// PARADE trades overall recall@1 (0.77 - 0.01 i) for a smaller gap (-0.07 +
// 0.02 (i + 1)) and less leakage; the baseline drifts a little from cell to
// cell (0.77 + 0.003 i, gap -0.07 - 0.004 i), as a rerun does. Three nulls,
// each in another place: cell 2 baseline's gap interval (a point without its
// horizontal bar), cell 1 PARADE's leakage (all "n/a"), cell 0 PARADE's
// minority interval (a bar without its whisker). Cell 0's first p-value is
// under 0.0001. One audit document. So the page draws 6 points, 11 scatter
// bars, 12 subgroup bars with 11 whiskers, and 6 paired rows.
inline Json synthetic_sweep() {
  Json cells = Json::array();
  const double rhos[] = {0.25, 0.5, 1.0};
  for (int i = 0; i < 3; ++i) {
    const std::string name = "parade.rho=" + Json(rhos[i]).dump();
    Json arms = Json::object();
    for (int parade = 0; parade <= 1; ++parade) {
      const double overall = parade ? 0.77 - 0.01 * i : 0.77 + 0.003 * i;
      const double gap = parade ? -0.07 + 0.02 * (i + 1) : -0.07 - 0.004 * i;
      const double majority = overall + 0.04, minority = majority + gap;
      arms[parade ? "parade" : "baseline"] = {
          {"overall", interval(overall, 0.01)},
          {"gap", interval(gap, 0.02)},
          {"leakage", interval(0.9 - 0.1 * (i + 1) * parade, 0.02)},
          {"per_group",
           {{{"name", "tone=0"},
             {"estimate", majority},
             {"low", majority - 0.015},
             {"high", majority + 0.015}},
            {{"name", "tone=1 (minority)"},
             {"estimate", minority},
             {"low", minority - 0.015},
             {"high", minority + 0.015}}}}};
    }
    if (i == 2) arms["baseline"]["gap"]["low"] = arms["baseline"]["gap"]["high"] = nullptr;
    if (i == 1)
      arms["parade"]["leakage"] = {{"estimate", nullptr}, {"low", nullptr}, {"high", nullptr}};
    if (i == 0)
      arms["parade"]["per_group"][1]["low"] = arms["parade"]["per_group"][1]["high"] = nullptr;
    const double p = i == 0 ? 0.00002 : 0.03 * i;
    cells.push_back({{"name", name},
                     {"values", {{"parade.rho", rhos[i]}}},
                     {"arms", arms},
                     {"paired",
                      {{{"metric", "R@1 overall"},
                        {"difference", interval(-0.01 * i, 0.005)},
                        {"p_value", p},
                        {"significant", p < 0.05}},
                       {{"metric", "R@1 gap"},
                        {"difference", interval(0.02 * (i + 1), 0.01)},
                        {"p_value", nullptr},
                        {"significant", false}}}}});
  }
  return {
      {"title", "finDML sweep on fashion_mnist_tone"},
      {"attribute", "tone"},
      {"metric", "recall@1"},
      {"axes", {"parade.rho"}},
      {"seeds", {0, 1, 2, 3, 4}},
      {"cells", cells},
      {"audits", {{{"title", "baseline, parade.rho=0.25, seed 0"}, {"audit", synthetic_audit()}}}}};
}

}  // namespace dml::test
