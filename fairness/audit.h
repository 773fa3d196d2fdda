#pragma once
// The finDML audit of a trained model: embed the held-out split with its
// sensitive attribute, then every metric of AUDIT_SCHEMA.md (retrieval and
// alignment per subgroup, attribute leakage, downstream gaps) and a 2-D PCA
// map, as one JSON document. `dml audit` writes it with its HTML report;
// `dml experiment findml` compares the documents of baseline and PARADE runs.
#include <string>
#include <vector>

#include "dml/train/config.h"
#include "dml/train/embed.h"
#include "fairness/groups.h"
#include "layers/module.h"

namespace dml::fairness {

// The attribute a run's audit looks at when none is named: the first of
// parade.attributes, else of data.attributes, else the bundled benchmark's
// "tone".
std::string default_audit_attribute(const Json& config);

struct AuditOptions {
  std::string attribute;          // the sensitive attribute (default_audit_attribute)
  int64_t max_pairs = 2'000'000;  // alignment samples pairs above this (see findml_metrics.h)
  int64_t map_points = 2000;      // points of the PCA map (a seeded subset when there are more)
  int64_t bootstrap_resamples = 1000;  // of the retrieval intervals (audit_intervals.h)
};

// The attribute audited and its training skew: the minority is the value
// rarest in the training split, minority_share its share there, the majority
// the most common other value there (groups.h: the gaps are minority -
// majority).
struct AuditTarget {
  std::string attribute;
  int64_t column = 0;  // in the held-out split's attribute matrix
  int64_t minority = 0;
  int64_t majority = kLargestGroup;
  double minority_share = 0;
  // The names of the held-out attribute matrix's columns: with two or more,
  // the audit adds their intersections.
  std::vector<std::string> split_attributes{};
  // What the codes mean (value_names.h): the audited attribute's values, each
  // split attribute's values, the held-out classes (the embedding map).
  data::ValueNames value_names{};
  std::vector<data::ValueNames> split_attribute_values{};
  data::ValueNames class_names{};
};
AuditTarget audit_target(const train::TrainConfig& config, const std::string& attribute);

// The audit document of embeddings already computed (held-out queries with
// their attributes).
Json audit_embeddings(const train::Embedded& held_out, const AuditTarget& target,
                      const train::TrainConfig& config, const AuditOptions& options,
                      const std::string& model_name, const std::string& dataset_name);

// Embeds the held-out split of the model's dataset and audits it.
Json audit_model(nn::Module& model, const train::TrainConfig& config, const AuditOptions& options,
                 const std::string& model_name);

}  // namespace dml::fairness
