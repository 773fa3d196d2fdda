#include "dml/train/optimizer_setup.h"

namespace dml::train {

std::vector<ParamGroup> model_and_loss_groups(const TrainConfig& c, nn::EmbeddingNet& model,
                                              losses::Loss& loss) {
  const OptimConfig& o = c.optimizer;
  std::vector<ParamGroup> groups = {{.name = "backbone",
                                     .params = model.backbone().parameters(),
                                     .lr = o.backbone_lr > 0 ? o.backbone_lr : o.lr,
                                     .weight_decay = o.weight_decay},
                                    {.name = "head",
                                     .params = model.head().parameters(),
                                     .lr = o.head_lr > 0 ? o.head_lr : o.lr,
                                     .weight_decay = o.weight_decay}};
  if (!loss.parameters().empty()) {
    const double mult =
        c.loss.lr_multiplier > 0 ? c.loss.lr_multiplier : loss.default_lr_multiplier();
    groups.push_back({.name = "loss",
                      .params = loss.parameters(),
                      .lr = o.lr * mult,
                      .weight_decay = o.weight_decay});
  }
  return groups;
}

std::unique_ptr<Optimizer> make_optimizer(const OptimConfig& o, std::vector<ParamGroup> groups) {
  if (o.name == "sgd")
    return std::make_unique<SGD>(std::move(groups), SgdOptions{.momentum = o.momentum});
  if (o.name == "adamw") return std::make_unique<AdamW>(std::move(groups));
  return std::make_unique<Adam>(std::move(groups));
}

std::unique_ptr<LrSchedule> make_schedule(const OptimConfig& o, int64_t steps_per_epoch,
                                          int64_t epochs) {
  if (o.schedule == "step") {
    DML_CHECK(o.step_size >= 1, "optimizer.step_size (epochs) must be >= 1 for the step schedule");
    return std::make_unique<StepLR>(o.step_size * steps_per_epoch, o.gamma);
  }
  if (o.schedule == "multistep") {
    std::vector<int64_t> steps;
    for (int64_t e : o.milestones) steps.push_back(e * steps_per_epoch);
    return std::make_unique<MultiStepLR>(steps, o.gamma);
  }
  if (o.schedule == "cosine")
    return std::make_unique<CosineWithWarmup>(o.warmup_steps, epochs * steps_per_epoch);
  return nullptr;
}

}  // namespace dml::train
