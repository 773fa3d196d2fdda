// dml train: a config file, overridden by --set key=value and by the common
// flags below (each is shorthand for one --set). A resumed run takes its
// checkpoint's config instead, and writes beside the checkpoint unless told
// otherwise (train.output).
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "dml/train/checkpoint.h"
#include "dml/train/trainer.h"
#include "fairness/parade_training.h"
#include "tools/commands.h"
#include "tools/config_flag.h"

namespace dml::tools {

namespace {

struct Shorthand {
  const char* flag;
  const char* key;
  const char* help;
};

constexpr Shorthand kShorthands[] = {
    {"--data-root", "data.root", "Dataset directory (csv: the manifest file)"},
    {"--backbone", "model.backbone", "resnet18|resnet34|resnet50|resnet101|small_resnet10|..."},
    {"--pretrained", "model.pretrained", "torchvision ResNet weights as safetensors"},
    {"--embedding-dim", "model.embedding_dim", "Embedding size"},
    {"--frozen-bn", "model.frozen_bn", "true: batch norm keeps its running statistics"},
    {"--loss", "loss.name", "DML loss (dml list shows them all)"},
    {"--miner", "loss.miner", "Miner, or none (dml list)"},
    {"--batch-size", "train.batch_size", "Images per batch (P classes x m)"},
    {"--m", "train.m", "Images per class in a batch"},
    {"--optimizer", "optimizer.name", "adam|adamw|sgd"},
    {"--lr", "optimizer.lr", "Learning rate"},
    {"--backbone-lr", "optimizer.backbone_lr", "Backbone learning rate (0: --lr)"},
    {"--head-lr", "optimizer.head_lr", "Embedding head learning rate (0: --lr)"},
    {"--loss-lr-multiplier", "loss.lr_multiplier", "Loss parameters' lr / --lr (0: loss default)"},
    {"--weight-decay", "optimizer.weight_decay", "Weight decay"},
    {"--schedule", "optimizer.schedule", "none|step|multistep|cosine"},
    {"--epochs", "train.epochs", "Epochs"},
    {"--image-size", "augment.image_size", "Training and evaluation crop size"},
    {"--seed", "train.seed", "Seed of every random choice in the run"},
    {"--workers", "train.workers", "Loader threads (0: load on the training thread)"},
    {"--threads", "train.threads", "OpenMP threads for the kernels (0: all cores)"},
    {"--device", "train.device", "Where to train: cpu, cuda or cuda:N"},
    {"--precision", "train.precision",
     "Convolutions and matrix products in f32, tf32 (CUDA) or bf16 (autocast)"},
    {"--cuda-graph", "train.cuda_graph",
     "true: capture each epoch's step in a CUDA graph and replay it (margin + distance_weighted)"},
    {"--channels-last", "train.channels_last",
     "true: the backbone's activations in NHWC (cuDNN's layout; for CUDA)"},
    {"--eval-every", "eval.every", "Evaluate every N epochs (0: only at the end)"},
    {"--output", "train.output", "Output directory"},
    {"--rho", "parade.rho", "PARADE: decorrelation weight (0: baseline)"},
    {"--alpha", "parade.alpha", "PARADE: weight of the attribute head's DML loss"},
};

// A checkpoint's run directory is where it lies now: a run directory moved
// or copied elsewhere resumes there, not at the path its config recorded.
std::string run_directory_of(const std::string& checkpoint) {
  const std::filesystem::path dir = std::filesystem::path(checkpoint).parent_path();
  return dir.empty() ? "." : dir.string();
}

struct TrainArgs {
  std::string config, resume;
  bool overwrite = false;
  std::vector<std::string> sets, parade;
  std::vector<std::string> shorthand_values = std::vector<std::string>(std::size(kShorthands));
};

}  // namespace

Command add_train_command(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Train a DML model (default config: small ResNet on Fashion-MNIST 0-4, held-out 5-9)");
  cmd->add_option("--config", args->config, "JSON config file (see configs/)");
  cmd->add_option("--set", args->sets, "Override one config key: section.key=value (repeatable)");
  cmd->add_option(
      "--parade", args->parade,
      "PARADE on these sensitive attributes (parade.attributes; each gets its own head)");
  cmd->add_option("--resume", args->resume,
                  "Continue from a checkpoint.safetensors (its config, plus any overrides; "
                  "written beside it unless --output says otherwise)");
  cmd->add_flag("--overwrite", args->overwrite,
                "Replace the run already in the output directory (once this one has started)");
  for (size_t i = 0; i < std::size(kShorthands); ++i)
    add_config_flag(cmd, kShorthands[i].flag, kShorthands[i].key, kShorthands[i].help,
                    args->shorthand_values[i]);
  return [args, cmd] {
    std::vector<std::string> overrides;
    for (size_t i = 0; i < std::size(kShorthands); ++i)
      if (cmd->get_option(kShorthands[i].flag)->count() > 0)  // given, even as ""
        overrides.push_back(std::string(kShorthands[i].key) + "=" + args->shorthand_values[i]);
    if (!args->parade.empty())
      overrides.push_back("parade.attributes=" + Json(args->parade).dump());
    overrides.insert(overrides.end(), args->sets.begin(), args->sets.end());
    Json base = Json::object();
    std::string origin = "defaults";
    if (!args->resume.empty()) {
      DML_CHECK(args->config.empty(), "--config ", args->config, " with --resume ", args->resume,
                ": a resumed run takes its checkpoint's config; drop --config and give changes ",
                "with --set (e.g. --set train.epochs=20)");
      base = train::load_checkpoint(args->resume).config;
      origin = args->resume;
      overrides.insert(overrides.begin(), "train.output=" + run_directory_of(args->resume));
    } else if (!args->config.empty()) {
      base = train::read_config_file(args->config);
      origin = args->config;
    }
    train::run_training(train::resolve_config(base, overrides, origin),
                        {.resume = args->resume,
                         .overwrite = args->overwrite,
                         .extension = fairness::make_parade_extension});
  };
}

}  // namespace dml::tools
