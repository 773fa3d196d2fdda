#pragma once
// A run's optimizer from its config: the parameter groups of the model and
// the loss, the optimizer (optimizer.name) and its learning-rate schedule
// (optimizer.schedule, given in epochs, applied in steps).
#include <memory>
#include <vector>

#include "dml/losses/loss.h"
#include "dml/train/config.h"
#include "engine/optim/lr_schedule.h"
#include "engine/optim/optimizer.h"
#include "layers/embedding_head.h"

namespace dml::train {

// "backbone" and "head" (optimizer.backbone_lr, head_lr, else lr), and
// "loss" when the loss learns (lr times loss.lr_multiplier, else the loss's
// own multiplier).
std::vector<ParamGroup> model_and_loss_groups(const TrainConfig& c, nn::EmbeddingNet& model,
                                              losses::Loss& loss);

std::unique_ptr<Optimizer> make_optimizer(const OptimConfig& o, std::vector<ParamGroup> groups);

// Null for optimizer.schedule none.
std::unique_ptr<LrSchedule> make_schedule(const OptimConfig& o, int64_t steps_per_epoch,
                                          int64_t epochs);

}  // namespace dml::train
