#pragma once
// The finDML audit of embeddings written by `dml embed` rather than of a
// model: <prefix>.embeddings.npy, .labels.npy and .attributes.npy, with the
// metric settings of the default config plus overrides.
#include <cstdint>
#include <string>
#include <vector>

#include "dml/json.h"
#include "fairness/groups.h"

namespace dml::fairness {

struct EmbeddingFiles {
  std::string prefix;
  std::string attribute;  // its name in the document; empty: the names file's, else "attribute"
  int64_t column = 0;     // the attribute's column in .attributes.npy
  int64_t minority = kSmallestGroup;
  double minority_share = 0.05;        // the minority's share in training (downstream skew)
  std::vector<std::string> overrides;  // "section.key=value" over the default config
};

// Throws dml::Error when `column` is not a column of the attribute matrix.
Json audit_embedding_files(const EmbeddingFiles& files);

}  // namespace dml::fairness
