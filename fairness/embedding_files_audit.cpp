#include "fairness/embedding_files_audit.h"

#include <filesystem>

#include "dml/train/config.h"
#include "dml/train/run_names.h"
#include "engine/npy.h"
#include "engine/ops.h"
#include "fairness/audit.h"

namespace dml::fairness {

Json audit_embedding_files(const EmbeddingFiles& files) {
  const std::string& prefix = files.prefix;
  DML_CHECK(std::filesystem::exists(prefix + ".attributes.npy"), "audit: ", prefix,
            ".attributes.npy is missing: the audit needs each embedding's attribute labels, and "
            "`dml embed --images` writes none (image files carry no attribute labels). Embed a "
            "split of a dataset with attributes instead (dml embed --split test), or write ",
            prefix,
            ".attributes.npy yourself: an int64 array [N, A], row i the attribute values of "
            "embedding row i, one column per attribute (--attribute-column picks one); ",
            prefix, ".labels.npy must then hold the class labels (int64 [N])");
  train::Embedded e{.embeddings = read_npy(prefix + ".embeddings.npy"),
                    .labels = read_npy(prefix + ".labels.npy"),
                    .attributes = read_npy(prefix + ".attributes.npy")};
  DML_CHECK(e.attributes.dim() == 2 && files.column >= 0 && files.column < e.attributes.size(1),
            "audit: --attribute-column ", files.column, " is not a column of ", prefix,
            ".attributes.npy (", describe(e.attributes), ")");
  train::TrainConfig c =
      train::typed_config(train::resolve_config(Json::object(), files.overrides, "--set"));
  train::use_configured_threads(c.run);
  int64_t minority = files.minority;
  if (minority == kSmallestGroup) {
    Tensor column = narrow(e.attributes, 1, files.column, 1);
    minority = find_subgroups(column.to_vector<int64_t>(), minority, "audit").minority;
  }
  // The names `dml embed` wrote beside the arrays, where there are any.
  const std::string names_path = train::embedding_names_path(prefix);
  const Json names = train::read_names_file(names_path);
  std::string attribute = files.attribute.empty() ? "attribute" : files.attribute;
  if (files.attribute.empty() && names.contains("attributes") && names["attributes"].is_object() &&
      files.column < int64_t(names["attributes"].size()))  // in the arrays' column order
    attribute = std::next(names["attributes"].begin(), files.column).key();
  const AuditTarget target{
      .attribute = attribute,
      .column = files.column,
      .minority = minority,
      .minority_share = files.minority_share,
      .value_names = train::attribute_value_names_of(names, attribute, names_path),
      .class_names = train::class_names_of(names, names_path)};
  return audit_embeddings(e, target, c, {}, prefix, prefix);
}

}  // namespace dml::fairness
