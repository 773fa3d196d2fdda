#pragma once
// The audit report: one self-contained HTML page (inline CSS and SVG; no
// scripts, fonts or links, so it opens offline and from an e-mail) rendered
// from audit documents as fixed by fairness/AUDIT_SCHEMA.md. Per document:
// what was audited, per-subgroup retrieval bars with their gaps, the
// alignment and uniformity table, leakage, the downstream classifiers' gaps
// and the 2-D embedding map coloured by class and by attribute value. Several
// documents (e.g. a baseline and a PARADE model) sit side by side under a
// table comparing their headline numbers. Every string from a document is
// HTML-escaped; numbers show 4 decimals, null (NaN) as "n/a".
#include <string>
#include <vector>

#include "dml/json.h"

namespace dml::fairness {

struct TitledAudit {
  std::string title;  // the document's heading, e.g. "baseline" or "PARADE"
  Json audit;
};

// Throws dml::Error naming the document and key when a document is not a
// "dml-audit-1" object, or a present value has the wrong type (a metric that
// is not a number or null, a point that is not [x, y], an embedding-map
// group that is not in "groups"). Absent sections render as a note.
std::string render_audits_html(const std::vector<TitledAudit>& audits,
                               const std::string& page_title = "Fairness audit");

// The documents' part of that page without the page around it (no <html>,
// style sheet or <h1>; fairness/report/html_page.h has them), so another
// page, e.g. a sweep's, can embed it: the comparison table when there are
// several documents, then one <section class="doc"> each. Throws as
// render_audits_html does.
std::string render_audit_sections(const std::vector<TitledAudit>& audits);

// One document, titled by its "model" (a name of its own, since a braced
// {{title, document}} would convert to either argument type).
std::string render_audit_html(const Json& audit);

}  // namespace dml::fairness
