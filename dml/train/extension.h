#pragma once
// What a training method adds to a plain DML run, without the trainer
// knowing it: extra parameters (own optimizer groups), an extra loss per
// batch computed from the backbone's feature map and the class embedding,
// state that checkpoints carry but exported models do not, and extra
// evaluation metrics. PARADE (fairness/) plugs in here; a plain run has none.
// Its settings form a config section of its own, whose defaults and key
// rules the extension registers with the config (config_section.h), so the
// trainer's config names no extension.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dml/data/batch_loader.h"
#include "dml/eval/retrieval_metrics.h"
#include "dml/train/config.h"
#include "engine/optim/optimizer.h"
#include "layers/embedding_head.h"

namespace dml::train {

struct Embedded;

// Rows of this rank -> the global batch's rows, in rank order.
using RowGather = std::function<Tensor(const Tensor& local)>;

class TrainingExtension {
 public:
  virtual ~TrainingExtension() = default;
  virtual std::string describe() const = 0;
  // Its parameters, in groups of their own (names distinct from "backbone",
  // "head", "loss").
  virtual std::vector<ParamGroup> parameter_groups() = 0;
  virtual void train(bool on) = 0;
  // The extra loss of one batch, added to the class loss. `features` is the
  // backbone's feature map, `class_embedding` the class head's output, both
  // of this rank's rows. `gather` gives the global batch's rows of a tensor
  // of this rank's rows (with the gradient flowing back; the tensor itself
  // in one process), so a loss over the batch sees every rank's rows.
  virtual Tensor loss(const Tensor& features, const Tensor& class_embedding,
                      const data::Batch& batch, const RowGather& gather) = 0;
  // Tensors a checkpoint holds so a run resumes exactly (prefixed "ext." in
  // the file); never exported with the model.
  virtual NamedTensors state_dict() const = 0;
  virtual void load_state_dict(const NamedTensors& state) = 0;
  // Metrics from the embedded held-out queries (with their attributes) and
  // the run's retrieval report on them (per-query values included), merged
  // into the epoch's metrics line.
  virtual Json evaluate(const Embedded& held_out, const eval::RetrievalReport& report) = 0;
};

// Builds the extension a config asks for (or null), given the training
// split (attribute names and values) and the model.
using ExtensionFactory = std::function<std::unique_ptr<TrainingExtension>(
    const Json& config, const data::SampleSet& train_set, nn::EmbeddingNet& model)>;

}  // namespace dml::train
