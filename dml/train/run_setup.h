#pragma once
// The parts a training run is made of, built from its config: the training
// split and the held-out data, the m-per-class sampler, the sample loader,
// the model, the loss and its miner, the cross-batch memory, the training
// extension (PARADE), the optimizer over all their parameters with its
// schedule, and on several ranks the gradient reducer. What the config
// cannot check by itself (a CUDA device present, a capturable step) is
// checked first, so a bad run fails before it reads any data.
#include <memory>

#include "dml/data/batch_loader.h"
#include "dml/data/m_per_class_sampler.h"
#include "dml/losses/cross_batch_memory.h"
#include "dml/losses/loss.h"
#include "dml/miners/miner.h"
#include "dml/train/config.h"
#include "dml/train/evaluation.h"
#include "dml/train/extension.h"
#include "engine/distributed/gradient_reducer.h"
#include "engine/optim/lr_schedule.h"
#include "engine/optim/optimizer.h"
#include "layers/embedding_head.h"

namespace dml::train {

struct RunParts {
  dist::Communicator* ranks = nullptr;  // the world the run trains on (dist::world())
  data::SampleSet train_set;            // labels relabelled 0 .. classes-1
  EvalData held_out;
  Json names;  // of classes and attribute values, in the dataset's codes (run_names.h)
  int64_t classes = 0;
  std::unique_ptr<data::MPerClassSampler> sampler;
  int64_t steps_per_epoch = 0;  // the sampler's, capped by train.max_steps_per_epoch
  data::SampleLoader train_loader;
  std::shared_ptr<nn::EmbeddingNet> model;
  std::unique_ptr<losses::Loss> loss;
  std::unique_ptr<miners::Miner> miner;              // null: the loss takes every tuple
  std::unique_ptr<losses::CrossBatchMemory> memory;  // null: loss.xbm_size 0
  std::unique_ptr<TrainingExtension> extension;      // null for a plain DML run
  std::unique_ptr<Optimizer> optimizer;
  std::unique_ptr<LrSchedule> schedule;  // null: a constant learning rate
  // Several ranks: sums every optimizer parameter's gradient over them.
  std::unique_ptr<dist::GradientReducer> reducer;
};

// `config` is the resolved config `c` was typed from (the extension reads its
// own sections there). The model's and the loss's
// initial values come from their named random streams of train.seed. On
// several ranks, train.device "cuda" becomes each rank's own GPU
// (cuda:local_rank), in `c` too.
RunParts set_up_run(TrainConfig& c, const Json& config, const ExtensionFactory& extension);

// The run's summary on stdout: the data, the model and loss, the extension.
void print_run(const RunParts& parts, const TrainConfig& c);

}  // namespace dml::train
