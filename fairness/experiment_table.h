#pragma once
// The finDML experiment's numbers, from its audit documents: the table rows
// (a metric, where its value and its per-run interval lie in an audit
// document), each cell's comparison of PARADE with the baseline across seeds
// (estimates with 95% intervals, the paired difference and its test), the
// text table `dml experiment findml` prints, a results.jsonl row per run,
// and the summary the sweep report draws (sweep_report.h).
#include <optional>
#include <string>
#include <vector>

#include "dml/json.h"
#include "fairness/uncertainty.h"

namespace dml::fairness {

struct TableRow {
  std::string label;
  Json::json_pointer where;                    // the value in an audit document
  std::optional<Json::json_pointer> interval;  // its bootstrap interval [low, high], if any
};

// The rows of an audit document: R@1 overall and per subgroup, the R@1 and
// MAP@R gaps, the alignment gaps, both leakage probes, the downstream
// classifiers' accuracy and gap, and the worst intersection's R@1 when the
// document has intersections.
std::vector<TableRow> table_rows(const Json& audit);

// The values of one row across documents (NaN where absent or null).
std::vector<double> row_values(const std::vector<Json>& audits, const TableRow& row);

// One arm's estimate and interval of a row: across seeds the mean and its
// Student-t interval; with one seed the run's own bootstrap interval when
// the row has one.
Interval arm_interval(const std::vector<Json>& audits, const TableRow& row);

// One cell of the experiment: its audit documents per seed.
struct CellAudits {
  std::string name;
  Json values;
  std::vector<Json> baseline, parade;  // [seed]
};

// The comparison of one cell, row by row: [{"metric", "baseline": [per
// seed], "parade": [...], "baseline_interval": {estimate, low, high},
// "parade_interval": {...}, "difference": {...}, "p_value", "significant",
// "n"}].
Json cell_table_json(const CellAudits& cell);

// The cell's table as text: estimate [low, high] per arm and PARADE -
// baseline [low, high] with p and "*" where significant at 5%.
std::string cell_table_text(const Json& cell_table, size_t seeds);

// The summary the sweep report renders (render_sweep_html).
Json sweep_summary(const std::vector<CellAudits>& cells, const std::vector<std::string>& axes,
                   const std::vector<int64_t>& seeds, const std::string& title,
                   const std::string& attribute);

// One results.jsonl row: a run's metrics (and per-run intervals) by row label.
Json result_row(const Json& audit, const std::string& cell, const Json& values, int64_t seed,
                const std::string& arm, const std::string& run_dir);

}  // namespace dml::fairness
