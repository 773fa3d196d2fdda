#pragma once
// The audit's per-run uncertainty and its intersectional view, both from the
// retrieval metrics' per-query values (findml_metrics.h):
//
// - retrieval_intervals: for every retrieval metric, stratified bootstrap
//   intervals over the queries (uncertainty.h) of the overall value, each
//   subgroup's and the minority - majority gap. They say how much a run's
//   numbers would move on another draw of held-out queries, not how much
//   another training seed would move them (the experiment's paired
//   comparison across seeds does that).
// - intersections: the subgroups of every combination of the split's
//   attributes (e.g. tone=1,pattern=0), each with its size, Recall@1 and
//   MAP@R and Recall@1's bootstrap interval, and the worst-off one named.
#include <cstdint>
#include <string>
#include <vector>

#include "dml/json.h"
#include "fairness/findml_metrics.h"
#include "fairness/uncertainty.h"

namespace dml::fairness {

// {"<metric>": {"overall": [low, high], "per_group": {"<value>": [low, high]},
//  "gap_minority_majority": [low, high]}}, confidence and resamples beside.
Json retrieval_intervals(const FinDmlReport& report, const std::vector<int64_t>& group_ids,
                         const BootstrapOptions& options);

// attributes: the held-out split's attribute matrix as rows of values, with
// the attributes' names and the names of their values (one entry per
// attribute; a missing or empty one shows the numbers). Needs at least two
// attributes; retrieval must have recall@1 and map@r.
Json intersections(const FinDmlReport& report, const std::vector<std::string>& attribute_names,
                   const std::vector<data::ValueNames>& value_names,
                   const std::vector<std::vector<int64_t>>& attributes,
                   const BootstrapOptions& options);

}  // namespace dml::fairness
