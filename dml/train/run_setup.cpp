#include "dml/train/run_setup.h"

#include <omp.h>

#include <cstdio>
#include <map>

#include "dml/data/random_streams.h"
#include "dml/data/shard.h"
#include "dml/losses/anchored_loss.h"
#include "dml/losses/registry.h"
#include "dml/miners/registry.h"
#include "dml/train/datasets.h"
#include "dml/train/model_factory.h"
#include "dml/train/optimizer_setup.h"
#include "dml/train/preflight.h"
#include "dml/train/run_names.h"

namespace dml::train {

namespace {

// Here, not in typed_config: a checkpoint trained on a GPU still loads for
// evaluation on a machine without one.
void check_trainable_here(const RunConfig& r, const LossConfig& loss, int64_t ranks) {
  DML_CHECK(!r.cuda_graph || ranks == 1, "train.cuda_graph: a captured step cannot hold the ",
            "collectives of ", ranks, " ranks (gathers, gradient all-reduce); set ",
            "train.cuda_graph=false");
  DML_CHECK(!r.cuda_graph || loss.xbm_size == 0, "train.cuda_graph: the cross-batch memory ",
            "grows and changes every step, which a captured step cannot follow; set ",
            "train.cuda_graph=false or loss.xbm_size=0");
  DML_CHECK(r.batch_size >= ranks, "train.batch_size ", r.batch_size, " on ", ranks,
            " ranks leaves a rank without images; use at least one image per rank");
  DML_CHECK(!r.cuda_graph || (loss.name == "margin" && loss.miner == "distance_weighted"),
            "train.cuda_graph: only the margin loss with the distance_weighted miner (one fused "
            "op on the device) is capturable; loss '",
            loss.name, "' with miner '", loss.miner,
            "' uploads index lists every step; set train.cuda_graph=false");
  DML_CHECK(!r.device.is_cuda() || r.device.index < cuda_device_count(), "train.device ",
            r.device.str(), ": no such CUDA device (", cuda_device_count(),
            " present); set train.device to cpu");
  DML_CHECK(r.precision != Precision::tf32 || r.device.is_cuda(),
            "train.precision tf32: TF32 exists on CUDA devices only and this run trains on ",
            r.device.str(), "; set train.precision to f32 or bf16, or train.device to cuda");
  DML_CHECK(!r.cuda_graph || r.device.is_cuda(),
            "train.cuda_graph: CUDA graphs capture work on a GPU and this run trains on ",
            r.device.str(), "; set train.cuda_graph=false or train.device=cuda");
}

// Relabels the training samples 0 .. C-1 (in order of their labels), as
// proxy and classification losses index their parameters by class; the
// class names follow.
int64_t make_labels_contiguous(data::SampleSet& set) {
  std::map<int64_t, int64_t> index;
  for (const auto& s : set.samples) index.emplace(s.label, 0);
  int64_t next = 0;
  data::ValueNames names;
  for (auto& [label, i] : index) {
    i = next++;
    if (auto name = set.class_names.find(label); name != set.class_names.end())
      names[i] = name->second;
  }
  for (auto& s : set.samples) s.label = index[s.label];
  set.class_names = std::move(names);
  return next;
}

std::unique_ptr<data::MPerClassSampler> make_sampler(const data::SampleSet& set,
                                                     const RunConfig& r) {
  std::vector<int64_t> labels;
  for (const auto& s : set.samples) labels.push_back(s.label);
  try {
    return std::make_unique<data::MPerClassSampler>(
        labels, data::MPerClassConfig{.batch_size = r.batch_size, .m = r.m}, uint64_t(r.seed));
  } catch (const Error& e) {  // too few or too small classes: say in which dataset
    throw Error(set.name + ": " + e.what());
  }
}

// Several ranks on a machine share its GPUs: train.device "cuda" (no index
// given) is each rank's own, cuda:local_rank.
void place_rank(TrainConfig& c, const Json& config, const dist::Communicator& ranks) {
  if (ranks.size() > 1 && config["train"]["device"] == "cuda")
    c.run.device = Device::cuda(ranks.local_rank());
}

// loss.xbm_size > 0: the memory of past embeddings, on the model's device.
std::unique_ptr<losses::CrossBatchMemory> make_memory(const TrainConfig& c) {
  if (c.loss.xbm_size == 0) return nullptr;
  DML_CHECK(losses::loss_entry(c.loss.name).kind == losses::LossKind::tuple, "loss.xbm_size ",
            c.loss.xbm_size, ": the cross-batch memory adds candidates to a tuple loss, and '",
            c.loss.name, "' learns class rows instead; set loss.xbm_size=0 or a tuple loss");
  return std::make_unique<losses::CrossBatchMemory>(c.loss.xbm_size, c.model.embedding_dim,
                                                    c.run.device);
}

// The loss (its parameters, if any, on the model's device) and its miner.
void add_loss(RunParts& parts, const TrainConfig& c) {
  Generator init(data::stream_seed(uint64_t(c.run.seed), data::Stream::loss_init));
  parts.loss = losses::make_loss(
      c.loss.name,
      {.num_classes = parts.classes, .embedding_dim = c.model.embedding_dim, .gen = &init},
      c.loss.params);
  parts.loss->to(c.run.device);
  if (c.loss.miner == "none") return;
  DML_CHECK(losses::loss_entry(c.loss.name).kind != losses::LossKind::proxy, "loss.miner '",
            c.loss.miner, "' has no effect on the proxy loss '", c.loss.name,
            "', which uses no tuples; set loss.miner to none");
  parts.miner = miners::make_miner(c.loss.miner, c.loss.miner_params);
}

}  // namespace

RunParts set_up_run(TrainConfig& c, const Json& config, const ExtensionFactory& extension) {
  dist::Communicator& ranks = dist::world();
  place_rank(c, config, ranks);
  check_trainable_here(c.run, c.loss, ranks.size());
  check_pretrained_weights_exist(c.model);
  use_configured_threads(c.run);
  RunParts parts;
  parts.ranks = &ranks;
  parts.train_set = open_split(c.data, "train");
  parts.held_out = open_eval_data(c, "test");
  preflight_run(parts.train_set, parts.held_out, c);
  std::vector<const data::SampleSet*> splits = {&parts.train_set, &parts.held_out.queries};
  if (parts.held_out.gallery) splits.push_back(&*parts.held_out.gallery);
  parts.names = names_json(splits);  // before the training classes are renumbered
  parts.classes = make_labels_contiguous(parts.train_set);
  parts.sampler = make_sampler(parts.train_set, c.run);
  parts.steps_per_epoch = parts.sampler->batches_per_epoch();
  if (c.run.max_steps_per_epoch > 0)
    parts.steps_per_epoch = std::min(parts.steps_per_epoch, c.run.max_steps_per_epoch);
  parts.train_loader = make_sample_loader(c, /*train=*/true);

  // The process-wide generator initialises the model, then the extension's
  // branches; its state goes into every checkpoint.
  manual_seed(data::stream_seed(uint64_t(c.run.seed), data::Stream::model));
  parts.model = build_model(c.model);
  parts.model->to(c.run.device);
  parts.model->backbone().set_channels_last(c.run.channels_last);
  add_loss(parts, c);
  parts.memory = make_memory(c);
  // Anchors short of the whole set: refused now rather than at the first step.
  if (parts.memory || (ranks.size() > 1 && c.distributed.objective == "local"))
    losses::check_takes_anchor_rows(*parts.loss);

  std::vector<ParamGroup> groups = model_and_loss_groups(c, *parts.model, *parts.loss);
  if (extension) parts.extension = extension(config, parts.train_set, *parts.model);
  DML_CHECK(!parts.extension || !c.run.cuda_graph,
            "train.cuda_graph: the PARADE branch uploads each batch's attributes, which a "
            "captured step cannot; set train.cuda_graph=false");
  if (parts.extension)
    for (ParamGroup& g : parts.extension->parameter_groups()) groups.push_back(std::move(g));
  parts.optimizer = make_optimizer(c.optimizer, std::move(groups));
  parts.schedule = make_schedule(c.optimizer, parts.steps_per_epoch, c.run.epochs);
  if (ranks.size() > 1)
    parts.reducer = std::make_unique<dist::GradientReducer>(ranks, parts.optimizer->parameters(),
                                                            c.distributed.bucket_mb);
  return parts;
}

void print_run(const RunParts& parts, const TrainConfig& c) {
  std::printf("%s: %zu training images in %lld classes (%lld skipped: classes with < m = %lld)\n",
              parts.train_set.name.c_str(), parts.train_set.samples.size(),
              (long long)parts.classes, (long long)parts.sampler->skipped_samples(),
              (long long)c.run.m);
  const EvalData& held_out = parts.held_out;
  std::printf("%s: %zu held-out images%s\n", held_out.queries.name.c_str(),
              held_out.queries.samples.size(),
              held_out.gallery ? std::string(", gallery ")
                                     .append(std::to_string(held_out.gallery->samples.size()))
                                     .c_str()
                               : "");
  std::printf("model %s + %lld-d head, %lld parameters; loss %s%s; %lld steps per epoch\n",
              c.model.backbone.c_str(), (long long)c.model.embedding_dim,
              (long long)parts.model->num_parameters(), parts.loss->describe().c_str(),
              parts.miner ? (", miner " + parts.miner->describe()).c_str() : "",
              (long long)parts.steps_per_epoch);
  if (parts.memory)
    std::printf("cross-batch memory of %lld embeddings from step %lld\n",
                (long long)c.loss.xbm_size, (long long)c.loss.xbm_start_step);
  if (parts.ranks->size() > 1) {
    const int ranks = parts.ranks->size();
    const int64_t most = data::shard_of(c.run.batch_size, 0, ranks).size();
    const int64_t fewest = data::shard_of(c.run.batch_size, ranks - 1, ranks).size();
    const std::string shares =
        most == fewest ? std::to_string(most) : std::to_string(fewest) + "-" + std::to_string(most);
    std::printf(
        "%d ranks (%s): each batch of %lld in shares of %s images, %s objective, batch norm %s, "
        "%d OpenMP thread(s) per rank\n",
        ranks, parts.ranks->backend().c_str(), (long long)c.run.batch_size, shares.c_str(),
        c.distributed.objective.c_str(),
        c.model.frozen_bn               ? "frozen"
        : c.distributed.sync_batch_norm ? "synchronised"
                                        : "per rank",
        omp_get_max_threads());
  }
  if (parts.extension) std::printf("%s\n", parts.extension->describe().c_str());
}

}  // namespace dml::train
