#pragma once
// A finDML sweep's summary as the sweep page reads it: per cell of the swept
// settings and per arm (baseline, PARADE) the overall metric, the minority -
// majority gap, leakage and per-subgroup values, each an estimate with an
// interval over the seeds; the paired differences between the arms; and
// audit documents of single runs. As JSON:
//   {"title", "attribute", "metric": strings (optional),
//    "axes": [swept key, ...], "seeds": [int, ...] (optional),
//    "cells": [{"name", "values": {axis: value},
//               "arms": {arm: {"overall", "gap", "leakage" (optional): interval,
//                              "per_group": [{"name", "estimate", "low", "high"}]}},
//               "paired": [{"metric", "difference": interval, "p_value",
//                           "significant"}]}, ...]  (at least one cell),
//    "audits": [{"title", "audit": a dml-audit-1 document}] (optional)}
// where an interval is {"estimate", "low", "high"}, each a number or null.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "dml/json.h"
#include "fairness/report/html_report.h"
#include "fairness/report/svg_charts.h"

namespace dml::fairness {

struct SummaryArm {
  std::string key;  // as in the summary ("baseline", "parade")
  Interval overall, gap, leakage;
  struct Group {
    std::string name;  // e.g. "tone=1 (minority)"
    Interval value;
  };
  std::vector<Group> per_group;
};

struct SummaryPaired {
  std::string metric;
  Interval difference;
  double p_value = std::numeric_limits<double>::quiet_NaN();
  bool significant = false;
};

struct SummaryCell {
  std::string name;
  Json values = Json::object();  // swept key -> value
  std::vector<SummaryArm> arms;
  std::vector<SummaryPaired> paired;
};

struct SweepSummary {
  std::string title, attribute, metric;  // defaults "finDML sweep", "", "recall@1"
  std::vector<std::string> axes;
  std::vector<std::string> arms;  // every cell's arm keys, first seen first
  std::vector<int64_t> seeds;
  std::vector<SummaryCell> cells;
  std::vector<TitledAudit> audits;  // checked when rendered (render_audit_sections)
};

// Throws dml::Error naming the key path (e.g. "cells[1].arms.parade.gap.low")
// when a required key is missing or a value has the wrong type; absent
// optional keys read as empty, null numbers as NaN.
SweepSummary read_sweep_summary(const Json& summary);

}  // namespace dml::fairness
