#pragma once
// PARADE as a training extension: for each sensitive attribute named in the
// config's "parade" section, an attribute branch (head + projectors, see
// parade.h) trained with a DML loss on the attribute labels (weight alpha)
// and the decorrelation term (weight rho). The trainer adds its loss to the
// class loss; checkpoints keep its state; exported models drop it.
//
// Config ("parade" section; defaults in fairness/parade_section.cpp):
//   attributes        names of sensitive attributes (empty: plain DML run)
//   embedding_dim     D_a of each attribute head
//   alpha, rho        loss weights; rho = 0 is the baseline
//   direction         attribute_to_class | class_to_attribute | both
//   projector_hidden  width of xi's hidden layer (512)
//   projector_lr      the projectors' learning rate (1e-5)
//   attribute_loss    DML loss on attribute labels ("" = loss.name)
//   attribute_features  shared (the paper's: the attribute head's gradients
//                     reach the backbone, which so learns the attribute) |
//                     detached (the head reads the backbone's features
//                     without passing gradients back; only the
//                     decorrelation shapes the backbone)
//   per_attribute     {"<name>": {"alpha": .., "rho": .., "embedding_dim": .., "direction": ..}}
#include <memory>
#include <vector>

#include "dml/train/extension.h"
#include "fairness/parade.h"

namespace dml::fairness {

struct ParadeConfig {
  std::vector<AttributeBranchConfig> branches;  // empty: PARADE is off
  double projector_lr = 1e-5;
  std::string attribute_loss;
  bool detach_attribute_features = false;  // attribute_features = detached
};

ParadeConfig parade_config(const Json& resolved_config);

// The extension, or null when parade.attributes is empty. Either way the
// parade section is checked (parade_config), so per-attribute settings
// without their attribute in parade.attributes are an error.
std::unique_ptr<train::TrainingExtension> make_parade_extension(const Json& resolved_config,
                                                                const data::SampleSet& train_set,
                                                                nn::EmbeddingNet& model);

}  // namespace dml::fairness
