// PARADE's config section: its defaults and key rules, registered with the
// trainer's config (dml/train/config_section.h), with a line on each key
// (parade_training.h says more).
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
    .docs =
        {
            {"attributes",
             "Sensitive attributes PARADE decorrelates, one head each ([]: plain DML)"},
            {"embedding_dim", "Size of each attribute head's embedding"},
            {"alpha", "Weight of the attribute head's DML loss"},
            {"rho", "Weight of the decorrelation term (0: the baseline)"},
            {"direction", "attribute_to_class | class_to_attribute | both: what is decorrelated"},
            {"projector_hidden", "Width of the projectors' hidden layer"},
            {"projector_lr", "Learning rate of the projectors"},
            {"attribute_loss", "DML loss of the attribute heads (\"\": loss.name)"},
            {"attribute_features",
             "shared: attribute gradients reach the backbone | detached: they do not"},
            {"per_attribute",
             "Per-attribute alpha, rho, embedding_dim, direction: {\"tone\": {\"rho\": 0.5}}"},
        },
});

}  // namespace

}  // namespace dml::fairness
