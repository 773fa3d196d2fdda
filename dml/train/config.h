#pragma once
// A training run's configuration: one JSON document with every setting, so a
// run is described by one file, saved next to its outputs and inside every
// checkpoint. Users write only the keys they change; the rest come from
// default_config(). The trainer reads its own sections; a training
// extension's section (config_section.h) is read by the extension. Flags
// override single keys by dotted path ("optimizer.lr=1e-4"). Unknown keys and
// wrongly typed values are errors naming the key, so a typo never silently
// trains with a default.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dml/json.h"
#include "engine/device.h"

namespace dml::train {

// Every key a config may hold, with its default value. Sections: data,
// model, loss, optimizer, augment, train, the registered extensions'
// sections (config_section.h), eval.
Json default_config();

// default_config() overlaid with `user` (a parsed config file), then with
// each "dotted.key=value" override (value parsed as JSON, else a string).
// Throws dml::Error naming `origin` and the key on unknown keys or type
// mismatches.
Json resolve_config(const Json& user, const std::vector<std::string>& overrides,
                    const std::string& origin);

// One key of a resolved config, as `dml config show` prints it: the dotted
// key, its value, its default and its one line of meaning (empty only for a
// key added without one, which a test refuses). An object of free keys
// (loss.params, parade.per_attribute) is one entry.
struct ConfigEntry {
  std::string key;
  Json value, default_value;
  std::string doc;
};
// Every key of `resolved` (a resolve_config() result), in the defaults' order.
std::vector<ConfigEntry> config_entries(const Json& resolved);

// The value of an override's "key=value": JSON, else the text as a string.
// An object or array repeating a key is an error naming `origin`.
Json parse_override_value(const std::string& raw, const std::string& origin);

// Whether `value` may replace the default `like`: a number for a float, an
// integer for an integer, else the same JSON type.
bool same_kind(const Json& like, const Json& value);

// Reads a JSON config file (a missing file or bad JSON: error naming it).
Json read_config_file(const std::string& path);

// Typed views of the sections the trainer reads.
struct DataConfig {
  // fashion_mnist | fashion_mnist_tone | cub200 | cars196 | sop | inshop | celeba | lfw | csv
  std::string format;
  std::string root;                                  // dataset directory (csv: the manifest file)
  std::vector<int64_t> train_classes, test_classes;  // fashion_mnist class split
  std::string train_split, test_split;               // csv: split column values; others: fixed
  std::vector<std::string> attributes;               // attribute labels to carry (CelebA, CUB, csv)
  bool skip_bad_images = false;
  int64_t max_image_pixels = 0;  // an image's width x height may not exceed this (header check)
  // fashion_mnist_tone (the bundled fairness benchmark): the image transform
  // that makes the "tone" attribute, its strength and its share of each class
  // per split; the same for the optional second attribute "pattern" (off when
  // its transform is ""). See dml/data/tone_benchmark.h.
  std::string tone_transform;
  double tone_strength = 1;
  double minority_share = 0.05, test_minority_share = 0.5;
  std::string pattern_transform;
  double pattern_strength = 1;
  double pattern_minority_share = 0.2, pattern_test_minority_share = 0.5;
};

struct ModelConfig {
  std::string backbone;
  int64_t in_channels = 3;
  std::string pretrained;  // torchvision weights as safetensors; empty: random init
  int64_t embedding_dim = 128;
  std::string pool;  // avg | max | avg+max
  bool layer_norm = false;
  bool frozen_bn = false;
};

struct LossConfig {
  std::string name;
  std::map<std::string, double> params;
  double lr_multiplier = 0;  // 0: the loss's own default
  std::string miner;         // "none" or a miner name
  std::map<std::string, double> miner_params;
  // Cross-batch memory (XBM, Wang et al. 2020): the last xbm_size embeddings
  // and labels of past global batches as extra candidates for the batch's
  // anchors, from step xbm_start_step on. 0: off.
  int64_t xbm_size = 0, xbm_start_step = 0;
};

struct OptimConfig {
  std::string name;  // adam | adamw | sgd
  double lr = 1e-5, weight_decay = 4e-4, momentum = 0.9;
  double backbone_lr = 0, head_lr = 0;  // 0: lr
  std::string schedule;                 // none | step | multistep | cosine
  int64_t step_size = 0, warmup_steps = 0;
  std::vector<int64_t> milestones;  // in epochs for step/multistep
  double gamma = 0.1;
};

struct AugmentConfig {
  int64_t image_size = 224, resize = 256;
  bool random_resized_crop = true, horizontal_flip = true;
  double scale_min = 0.08;
  std::vector<double> mean, std;
};

// train.precision: what the convolutions and matrix products of a training
// step compute in. f32; tf32 (CUDA only: cuBLAS and cuDNN round f32 operands
// to TF32's 10-bit significand, accumulating in f32); bf16 (autocast,
// engine/autocast.h: conv2d, matmul and linear on bf16 copies of their f32
// operands, f32 master weights; every other op in f32). Evaluation and
// embedding always run in f32.
enum class Precision { f32, tf32, bf16 };
Precision parse_precision(const std::string& name);
const char* precision_name(Precision p);

struct RunConfig {
  int64_t epochs = 1, batch_size = 112, m = 2, seed = 0;
  int64_t eval_every = 1, workers = 2, threads = 0, log_every = 10;
  int64_t max_steps_per_epoch = 0;  // 0: the sampler's full epoch
  // A step whose loss or gradient is not finite: false ends the run with an
  // error naming it; true skips it (no update) and counts it in the log.
  bool skip_nonfinite_steps = false;
  int64_t eval_limit = 0;  // 0: the whole test split
  std::string metric;      // cosine | euclidean
  std::vector<int64_t> recall_ks;
  bool clustering = false;
  std::string output;
  Device device;  // train.device: where the model trains ("cpu", "cuda", "cuda:N")
  Precision precision = Precision::f32;  // train.precision
  // train.cuda_graph: capture each epoch's step in a CUDA graph and replay it
  // (dml/train/step_graph.h); CUDA, the margin loss with the
  // distance-weighted miner, no training extension.
  bool cuda_graph = false;
  // train.channels_last: the backbone's activations in NHWC
  // (ResNet::set_channels_last), cuDNN's preferred layout; on the CPU it only
  // adds permutes. Training and evaluation alike.
  bool channels_last = false;
};

// Training on several ranks (mpirun / srun; one process: ignored).
struct DistributedConfig {
  // global: every rank computes the loss of the whole global batch (the
  // gradients of one process on that batch); local: each rank's own rows as
  // anchors against every rank's rows as candidates.
  std::string objective = "global";
  double bucket_mb = 25;         // gradient all-reduce bucket size
  double timeout_seconds = 600;  // a collective waiting longer fails, naming it
  // Batch norm in training normalises with the statistics of the whole
  // global batch (summed over the ranks), as one process on that batch does;
  // false: each rank's own share's.
  bool sync_batch_norm = true;
};

struct TrainConfig {
  DataConfig data;
  ModelConfig model;
  LossConfig loss;
  OptimConfig optimizer;
  AugmentConfig augment;
  RunConfig run;
  DistributedConfig distributed;
};

// Reads the typed view of a resolved config, checking value ranges.
TrainConfig typed_config(const Json& resolved);

// Sets the kernels' OpenMP threads to train.threads when it is > 0 (0 keeps
// OpenMP's default, all cores; on several ranks, the cores of the machine
// divided among its ranks). Training, evaluation and embedding all do.
void use_configured_threads(const RunConfig& run);

}  // namespace dml::train
