#pragma once
// The sections of the audit document (fairness/AUDIT_SCHEMA.md) that the
// finDML metrics, the leakage probe and the downstream classifiers produce.
// Objects keep the schema's key order; NaN and infinities become null.
#include "dml/json.h"

#include "fairness/downstream.h"
#include "fairness/findml_metrics.h"
#include "fairness/leakage.h"

namespace dml::fairness {

// {"minority", "majority", "groups", "sampled", "retrieval", "alignment"}: the top-level
// keys of the document that findml_metrics fills, in schema order.
Json to_json(const FinDmlReport& report);

// The value of the document's "leakage" key.
Json to_json(const LeakageResult& leakage);

// The value of the document's "downstream" key.
Json to_json(const DownstreamReport& downstream);

// A number, or null when it is not finite.
Json json_number(double value);

}  // namespace dml::fairness
