#include "fairness/embedding_files_audit.h"

#include "dml/train/config.h"
#include "engine/npy.h"
#include "engine/ops.h"
#include "fairness/audit.h"

namespace dml::fairness {

Json audit_embedding_files(const EmbeddingFiles& files) {
  const std::string& prefix = files.prefix;
  train::Embedded e{.embeddings = read_npy(prefix + ".embeddings.npy"),
                    .labels = read_npy(prefix + ".labels.npy"),
                    .attributes = read_npy(prefix + ".attributes.npy")};
  DML_CHECK(e.attributes.dim() == 2 && files.column >= 0 && files.column < e.attributes.size(1),
            "audit: --attribute-column ", files.column, " is not a column of ", prefix,
            ".attributes.npy (", describe(e.attributes), ")");
  train::TrainConfig c =
      train::typed_config(train::resolve_config(Json::object(), files.overrides, "--set"));
  int64_t minority = files.minority;
  if (minority == kSmallestGroup) {
    Tensor column = narrow(e.attributes, 1, files.column, 1);
    minority = find_subgroups(column.to_vector<int64_t>(), minority, "audit").minority;
  }
  const AuditTarget target{.attribute = files.attribute.empty() ? "attribute" : files.attribute,
                           .column = files.column,
                           .minority = minority,
                           .minority_share = files.minority_share};
  return audit_embeddings(e, target, c, {}, prefix, prefix);
}

}  // namespace dml::fairness
