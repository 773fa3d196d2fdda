#pragma once
// The page of a finDML sweep: one self-contained HTML page (inline CSS and
// SVG, no scripts, like the audit report) from a sweep summary
// (fairness/report/sweep_summary.h): a line on what was swept; the
// fairness-accuracy trade-off (svg#tradeoff: the gap against the overall
// metric, one point per cell and arm with both intervals, the PARADE points
// joined in cell order) with its numbers (table#arms); per-subgroup bars
// with whiskers per cell (svg.subgroup-bars); the paired differences
// (table#paired); the audit documents' own sections, as the audit page
// renders them.
#include <string>

#include "dml/json.h"

namespace dml::fairness {

// Throws dml::Error naming the key path (e.g. "cells[1].arms.parade.gap.low")
// when the summary lacks a required key or a value has the wrong type, and
// the audit document when one is malformed. Every string is HTML-escaped.
// A null estimate prints "n/a" and draws no point or bar; a null end of an
// interval leaves out its bar or whisker.
std::string render_sweep_html(const Json& summary);

}  // namespace dml::fairness
