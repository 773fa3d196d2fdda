// PARADE's config section: its defaults and key rules, registered with the
// trainer's config (dml/train/config_section.h). parade_training.h documents
// each key.
#include "dml/train/config_section.h"

namespace dml::fairness {

namespace {

[[maybe_unused]] const bool registered = train::config_sections().add({
    .name = "parade",
    .defaults = Json::parse(R"({
      "attributes": [],
      "embedding_dim": 64,
      "alpha": 1.0,
      "rho": 1.0,
      "direction": "attribute_to_class",
      "projector_hidden": 512,
      "projector_lr": 0.00001,
      "attribute_loss": "",
      "attribute_features": "shared",
      "per_attribute": {}
    })"),
    .named_settings = {{.key = "per_attribute", .example = R"({"rho": 0.5})"}},
});

}  // namespace

}  // namespace dml::fairness
