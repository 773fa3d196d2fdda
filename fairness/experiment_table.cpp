#include "fairness/experiment_table.h"

#include <cmath>
#include <cstdio>

#include "fairness/audit_json.h"

namespace dml::fairness {

namespace {

using Pointer = Json::json_pointer;

Json interval_json(const Interval& i) {
  return {{"estimate", json_number(i.estimate)},
          {"low", json_number(i.low)},
          {"high", json_number(i.high)}};
}

double number_at(const Json& doc, const Pointer& where) {
  return doc.contains(where) && doc[where].is_number() ? doc[where].get<double>() : NAN;
}

std::string format_interval(const Json& i) {
  auto text = [](const Json& v) {
    char buf[32];
    if (v.is_number())
      std::snprintf(buf, sizeof buf, "%.4f", v.get<double>());
    else
      std::snprintf(buf, sizeof buf, "n/a");
    return std::string(buf);
  };
  std::string out = text(i["estimate"]);
  if (i["low"].is_number()) out += " [" + text(i["low"]) + ", " + text(i["high"]) + "]";
  return out;
}

// The rows the summary's arms draw: R@1 overall, its gap, leakage, and the
// per-subgroup R@1 rows.
Json arm_summary(const std::vector<Json>& audits, const std::vector<TableRow>& rows,
                 const Json& first) {
  Json arm = {{"per_group", Json::array()}};
  for (const TableRow& row : rows) {
    const Json i = interval_json(arm_interval(audits, row));
    if (row.label == "R@1 overall") arm["overall"] = i;
    if (row.label == "R@1 gap (minority - majority)") arm["gap"] = i;
    if (row.label == "attribute leakage, linear probe (balanced acc.)") arm["leakage"] = i;
  }
  for (const Json& g : first["groups"]) {
    const std::string label = "R@1 " + g["name"].get<std::string>();
    for (const TableRow& row : rows)
      if (row.label == label) {
        Json i = interval_json(arm_interval(audits, row));
        const bool minority = g["value"] == first["minority"];
        const bool majority = first.contains("majority") && g["value"] == first["majority"];
        i["name"] = g["name"].get<std::string>() + (minority   ? " (minority)"
                                                    : majority ? " (majority)"
                                                               : "");
        arm["per_group"].push_back(i);
      }
  }
  return arm;
}

}  // namespace

std::vector<TableRow> table_rows(const Json& doc) {
  const std::string intervals = "/retrieval/intervals/metrics/";
  std::vector<TableRow> rows = {{"R@1 overall", Pointer("/retrieval/overall/recall@1"),
                                 Pointer(intervals + "recall@1/overall")}};
  for (const Json& g : doc["groups"]) {
    const std::string v = std::to_string(g["value"].get<int64_t>());
    rows.push_back({"R@1 " + g["name"].get<std::string>(),
                    Pointer("/retrieval/per_group/" + v + "/recall@1"),
                    Pointer(intervals + "recall@1/per_group/" + v)});
  }
  rows.push_back({"R@1 gap (minority - majority)",
                  Pointer("/retrieval/gap_minority_majority/recall@1"),
                  Pointer(intervals + "recall@1/gap_minority_majority")});
  rows.push_back({"MAP@R gap (minority - majority)",
                  Pointer("/retrieval/gap_minority_majority/map@r"),
                  Pointer(intervals + "map@r/gap_minority_majority")});
  for (const char* a : {"intra_class", "inter_class", "uniformity"})
    rows.push_back({std::string(a) + " gap (minority - majority)",
                    Pointer(std::string("/alignment/gap_minority_majority/") + a), std::nullopt});
  rows.push_back({"attribute leakage, linear probe (balanced acc.)",
                  Pointer("/leakage/balanced_accuracy"), std::nullopt});
  rows.push_back({"attribute leakage, k-NN probe (balanced acc.)",
                  Pointer("/leakage/knn_balanced_accuracy"), std::nullopt});
  for (const char* d :
       {"logistic_imbalanced", "logistic_balanced", "knn_imbalanced", "knn_balanced"}) {
    rows.push_back({std::string(d) + " accuracy",
                    Pointer(std::string("/downstream/") + d + "/overall"), std::nullopt});
    rows.push_back({std::string(d) + " gap (minority - majority)",
                    Pointer(std::string("/downstream/") + d + "/gap_minority_majority"),
                    std::nullopt});
  }
  if (doc.contains("intersections"))
    rows.push_back({"R@1 gap, worst - best intersection",
                    Pointer("/intersections/gap_worst_best/recall@1"),
                    Pointer("/intersections/gap_worst_best/interval")});
  return rows;
}

std::vector<double> row_values(const std::vector<Json>& audits, const TableRow& row) {
  std::vector<double> out;
  for (const Json& d : audits) out.push_back(number_at(d, row.where));
  return out;
}

Interval arm_interval(const std::vector<Json>& audits, const TableRow& row) {
  const std::vector<double> values = row_values(audits, row);
  if (values.size() >= 2) return mean_interval(values);
  Interval one{.estimate = values.empty() ? NAN : values[0]};
  if (values.size() == 1 && row.interval && audits[0].contains(*row.interval)) {
    const Json& i = audits[0][*row.interval];
    if (i.is_array() && i.size() == 2 && i[0].is_number() && i[1].is_number()) {
      one.low = i[0].get<double>();
      one.high = i[1].get<double>();
    }
  }
  return one;
}

Json cell_table_json(const CellAudits& cell) {
  Json out = Json::array();
  for (const TableRow& row : table_rows(cell.baseline.front())) {
    const PairedComparison paired =
        paired_difference(row_values(cell.baseline, row), row_values(cell.parade, row));
    out.push_back({{"metric", row.label},
                   {"baseline", row_values(cell.baseline, row)},
                   {"parade", row_values(cell.parade, row)},
                   {"baseline_interval", interval_json(arm_interval(cell.baseline, row))},
                   {"parade_interval", interval_json(arm_interval(cell.parade, row))},
                   {"difference", interval_json(paired.difference)},
                   {"n", paired.n},
                   {"p_value", std::isfinite(paired.p_value) ? Json(paired.p_value) : Json()},
                   {"significant", paired.significant}});
  }
  return out;
}

// The sign convention of every gap row, printed under the table.
const char* const kGapNote =
    "gaps: minority - majority (the training split's rarest value and its most common other); "
    "below 0 the minority is worse off where higher is better\n";

std::string cell_table_text(const Json& table, size_t seeds) {
  char line[512];
  std::snprintf(line, sizeof line, "%-48s %-26s %-26s %s\n", "metric", "baseline", "PARADE",
                seeds >= 2 ? "PARADE - baseline (paired)" : "");
  std::string out = line;
  for (const Json& row : table) {
    std::string diff;
    if (seeds >= 2 && row["difference"]["low"].is_number()) {
      char p[48];
      std::snprintf(p, sizeof p, " p=%.3f%s",
                    row["p_value"].is_number() ? row["p_value"].get<double>() : NAN,
                    row["significant"].get<bool>() ? " *" : "");
      diff = format_interval(row["difference"]) + p;
    }
    std::snprintf(line, sizeof line, "%-48s %-26s %-26s %s\n",
                  row["metric"].get<std::string>().c_str(),
                  format_interval(row["baseline_interval"]).c_str(),
                  format_interval(row["parade_interval"]).c_str(), diff.c_str());
    out += line;
  }
  return out + kGapNote;
}

Json sweep_summary(const std::vector<CellAudits>& cells, const std::vector<std::string>& axes,
                   const std::vector<int64_t>& seeds, const std::string& title,
                   const std::string& attribute) {
  Json out = {{"title", title}, {"attribute", attribute}, {"metric", "recall@1"},   {"axes", axes},
              {"seeds", seeds}, {"cells", Json::array()}, {"audits", Json::array()}};
  for (const CellAudits& cell : cells) {
    const std::vector<TableRow> rows = table_rows(cell.baseline.front());
    Json paired = Json::array();
    for (const Json& row : cell_table_json(cell))
      paired.push_back({{"metric", row["metric"]},
                        {"difference", row["difference"]},
                        {"p_value", row["p_value"]},
                        {"significant", row["significant"]}});
    out["cells"].push_back({{"name", cell.name},
                            {"values", cell.values},
                            {"arms",
                             {{"baseline", arm_summary(cell.baseline, rows, cell.baseline.front())},
                              {"parade", arm_summary(cell.parade, rows, cell.parade.front())}}},
                            {"paired", paired}});
  }
  // The first cell's first seed of each arm: its embedding maps and details.
  const CellAudits& first = cells.front();
  const std::string seed = std::to_string(seeds.front());
  out["audits"].push_back(
      {{"title", "baseline, " + first.name + ", seed " + seed}, {"audit", first.baseline.front()}});
  out["audits"].push_back(
      {{"title", "PARADE, " + first.name + ", seed " + seed}, {"audit", first.parade.front()}});
  return out;
}

Json result_row(const Json& audit, const std::string& cell, const Json& values, int64_t seed,
                const std::string& arm, const std::string& run_dir) {
  Json metrics = Json::object(), intervals = Json::object();
  for (const TableRow& row : table_rows(audit)) {
    const double v = number_at(audit, row.where);
    metrics[row.label] = std::isfinite(v) ? Json(v) : Json();
    if (row.interval && audit.contains(*row.interval)) intervals[row.label] = audit[*row.interval];
  }
  return {{"cell", cell},   {"values", values},   {"seed", seed},          {"arm", arm},
          {"run", run_dir}, {"metrics", metrics}, {"intervals", intervals}};
}

}  // namespace dml::fairness
