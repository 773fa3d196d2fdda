#include "dml/train/config.h"

#include <omp.h>

#include <algorithm>
#include <optional>
#include <sstream>
#include <type_traits>

#include "base/error.h"
#include "base/regular_file.h"
#include "dml/data/image.h"
#include "dml/data/tone_benchmark.h"
#include "dml/train/config_section.h"
#include "dml/train/datasets.h"
#include "dml/train/json_text.h"
#include "engine/distributed/communicator.h"

namespace dml::train {

Json default_config() {
  // The defaults are the bundled Fashion-MNIST run (small ResNet, 28 px grey
  // images, classes 0-4 train, 5-9 held out); the standard-protocol configs
  // in configs/ override what differs.
  Json config = Json::parse(R"({
    "data": {
      "format": "fashion_mnist",
      "root": "/usr/share/datasets/fashion-mnist",
      "train_classes": [0, 1, 2, 3, 4],
      "test_classes": [5, 6, 7, 8, 9],
      "train_split": "train",
      "test_split": "test",
      "attributes": [],
      "skip_bad_images": false,
      "tone_transform": "invert",
      "tone_strength": 1.0,
      "minority_share": 0.05,
      "test_minority_share": 0.5,
      "pattern_transform": "",
      "pattern_strength": 1.0,
      "pattern_minority_share": 0.2,
      "pattern_test_minority_share": 0.5
    },
    "model": {
      "backbone": "small_resnet10",
      "in_channels": 1,
      "pretrained": "",
      "embedding_dim": 64,
      "pool": "avg",
      "layer_norm": false,
      "frozen_bn": false
    },
    "loss": {
      "name": "multi_similarity",
      "params": {},
      "lr_multiplier": 0.0,
      "miner": "none",
      "miner_params": {},
      "xbm_size": 0,
      "xbm_start_step": 0
    },
    "optimizer": {
      "name": "adam",
      "lr": 0.001,
      "weight_decay": 0.0004,
      "momentum": 0.9,
      "backbone_lr": 0.0,
      "head_lr": 0.0,
      "schedule": "none",
      "step_size": 0,
      "milestones": [],
      "gamma": 0.1,
      "warmup_steps": 0
    },
    "augment": {
      "image_size": 28,
      "resize": 28,
      "random_resized_crop": false,
      "horizontal_flip": true,
      "scale_min": 0.08,
      "mean": [0.2860],
      "std": [0.3530]
    },
    "train": {
      "epochs": 2,
      "batch_size": 100,
      "m": 20,
      "seed": 0,
      "workers": 1,
      "threads": 0,
      "log_every": 20,
      "max_steps_per_epoch": 0,
      "skip_nonfinite_steps": false,
      "output": "runs/fashion_mnist",
      "device": "cpu",
      "precision": "f32",
      "cuda_graph": false,
      "channels_last": false
    },
    "distributed": {
      "objective": "global",
      "bucket_mb": 25.0,
      "timeout_seconds": 600.0,
      "sync_batch_norm": true
    }
  })");
  // The decoder's own limit, so the two cannot drift apart.
  config["data"]["max_image_pixels"] = data::kDefaultMaxImagePixels;
  for (const ConfigSection& s : config_sections().entries()) {
    DML_CHECK(!config.contains(s.name) && s.name != "eval", "config section '", s.name,
              "' is one of the trainer's own");
    config[s.name] = s.defaults;
  }
  config["eval"] = Json::parse(R"({
    "every": 1,
    "limit": 0,
    "metric": "cosine",
    "recall_ks": [1, 2, 4, 8],
    "clustering": true
  })");
  return config;
}

namespace {

// One line of meaning per key of default_config()'s own sections (an
// extension's section carries its own, ConfigSection::docs). `dml config
// show` prints them; a test fails on a key without one.
const std::map<std::string, std::string>& trainer_key_docs() {
  static const std::map<std::string, std::string> docs = {
      {"data.format", "Dataset reader and on-disk layout (dml list: formats)"},
      {"data.root", "Dataset directory (csv: the manifest file)"},
      {"data.train_classes", "fashion_mnist*: classes of the training split"},
      {"data.test_classes", "fashion_mnist*: held-out classes of the test split"},
      {"data.train_split", "csv: split column value of the training rows"},
      {"data.test_split", "csv: split column value of the held-out rows"},
      {"data.attributes", "Attribute labels to carry (CelebA, CUB, csv columns)"},
      {"data.skip_bad_images", "true: leave unreadable images out (counted) instead of failing"},
      {"data.max_image_pixels",
       "Largest image (width x height, from its header, and after the resize) a run accepts"},
      {"data.tone_transform", "fashion_mnist_tone: the transform that makes the 'tone' minority"},
      {"data.tone_strength", "fashion_mnist_tone: share of the tone transform applied, [0, 1]"},
      {"data.minority_share", "fashion_mnist_tone: tone minority's share of each training class"},
      {"data.test_minority_share", "fashion_mnist_tone: tone minority's share of held-out classes"},
      {"data.pattern_transform", "fashion_mnist_tone: second attribute 'pattern' (\"\": off)"},
      {"data.pattern_strength", "fashion_mnist_tone: share of the pattern transform, [0, 1]"},
      {"data.pattern_minority_share", "fashion_mnist_tone: pattern minority's training share"},
      {"data.pattern_test_minority_share", "fashion_mnist_tone: pattern minority's held-out share"},
      {"model.backbone", "ResNet backbone (dml list: backbones)"},
      {"model.in_channels", "Input channels: 1 (grey) or 3 (RGB)"},
      {"model.pretrained", "torchvision ResNet weights as .safetensors (\"\": random init)"},
      {"model.embedding_dim", "Embedding size"},
      {"model.pool", "Global pooling: avg, max or avg+max"},
      {"model.layer_norm", "true: layer norm before the embedding layer"},
      {"model.frozen_bn", "true: batch norm keeps its running statistics (fine-tuning)"},
      {"loss.name", "DML loss (dml list: losses)"},
      {"loss.params", "The loss's parameters by name, e.g. {\"margin\": 0.2} (dml list)"},
      {"loss.lr_multiplier", "Loss parameters' learning rate / optimizer.lr (0: the loss's own)"},
      {"loss.miner", "Miner, or none (dml list: miners)"},
      {"loss.miner_params", "The miner's parameters by name (dml list)"},
      {"loss.xbm_size",
       "Cross-batch memory: past embeddings kept as extra candidates (0: off; tuple losses)"},
      {"loss.xbm_start_step", "Cross-batch memory: the step from which the memory is used"},
      {"distributed.objective",
       "Several ranks: global (the whole batch's loss) or local (own anchors, all candidates)"},
      {"distributed.bucket_mb", "Several ranks: gradient all-reduce bucket size in MiB"},
      {"distributed.timeout_seconds", "Several ranks: a collective waiting longer fails"},
      {"distributed.sync_batch_norm",
       "Several ranks: batch norm uses the whole batch's statistics (false: each rank's own)"},
      {"optimizer.name", "adam, adamw or sgd"},
      {"optimizer.lr", "Learning rate"},
      {"optimizer.weight_decay", "Weight decay"},
      {"optimizer.momentum", "sgd: momentum"},
      {"optimizer.backbone_lr", "Backbone learning rate (0: optimizer.lr)"},
      {"optimizer.head_lr", "Embedding head learning rate (0: optimizer.lr)"},
      {"optimizer.schedule", "Learning-rate schedule: none, step, multistep or cosine"},
      {"optimizer.step_size", "step: epochs between decays"},
      {"optimizer.milestones", "multistep: epochs at which the rate decays"},
      {"optimizer.gamma", "step, multistep: factor of each decay"},
      {"optimizer.warmup_steps", "cosine: steps of linear warm-up"},
      {"augment.image_size", "Training and evaluation crop size (pixels)"},
      {"augment.resize", "Evaluation: shorter side resized to this before the center crop"},
      {"augment.random_resized_crop", "Training: random resized crop (false: resize + crop)"},
      {"augment.horizontal_flip", "Training: random horizontal flips"},
      {"augment.scale_min", "Training: smallest area share of a random resized crop"},
      {"augment.mean", "Per-channel mean subtracted after scaling pixels to [0, 1]"},
      {"augment.std", "Per-channel standard deviation divided by"},
      {"train.epochs", "Epochs"},
      {"train.batch_size", "Images per batch (P classes x m)"},
      {"train.m", "Images per class in a batch"},
      {"train.seed", "Seed of every random choice in the run"},
      {"train.workers", "Loader threads (0: load on the training thread)"},
      {"train.threads", "OpenMP threads for the kernels (0: all cores)"},
      {"train.log_every", "Log a progress line every N steps"},
      {"train.max_steps_per_epoch", "Cut each epoch after N steps (0: the sampler's full epoch)"},
      {"train.skip_nonfinite_steps",
       "true: skip a step with a non-finite loss or gradient (false: stop with an error)"},
      {"train.output", "Output directory (checkpoints, metrics.jsonl, model)"},
      {"train.device", "Where to train: cpu, cuda or cuda:N"},
      {"train.precision", "Convolutions and matrix products in f32, tf32 (CUDA) or bf16"},
      {"train.cuda_graph", "true: replay each step as a CUDA graph (margin + distance_weighted)"},
      {"train.channels_last", "true: backbone activations in NHWC (for CUDA)"},
      {"eval.every", "Evaluate every N epochs (0: only after the last)"},
      {"eval.limit", "Evaluate on at most N queries (0: the whole test split)"},
      {"eval.metric", "kNN distance: cosine or euclidean"},
      {"eval.recall_ks", "The k of Recall@k"},
      {"eval.clustering", "true: also NMI (k-means) on the test split"},
  };
  return docs;
}

// An object whose keys are free: they are checked where they are used (the
// loss and miner factories know their parameters, an extension its names).
struct FreeKeys {
  bool settings = false;  // values: objects of settings (else numbers)
  std::string example;    // of settings, for the error on a non-object
};

std::optional<FreeKeys> free_keys(const std::string& path) {
  if (path == "loss.params" || path == "loss.miner_params") return FreeKeys{};
  for (const ConfigSection& s : config_sections().entries())
    for (const NamedSettings& n : s.named_settings)
      if (path == s.name + "." + n.key) return FreeKeys{.settings = true, .example = n.example};
  return std::nullopt;
}

void overlay(Json& base, const Json& user, const std::string& path, const std::string& origin) {
  DML_CHECK(user.is_object(), origin, ": '", path.empty() ? "(top level)" : path,
            "' must be a JSON object");
  const std::optional<FreeKeys> free = free_keys(path);
  for (const auto& [key, value] : user.items()) {
    const std::string where = path.empty() ? key : path + "." + key;
    if (free) {
      const bool settings = free->settings;
      DML_CHECK(settings ? value.is_object() : value.is_number(), origin, ": '", where,
                "' must be ",
                settings ? "an object of settings, e.g. " + free->example : "a number", ", got ",
                value.dump());
      // Settings of one name add up (a file's, then each override's), as the
      // fixed keys do; the names are checked by the section's extension.
      if (settings && base.contains(key))
        base[key].update(value);
      else
        base[key] = value;
      continue;
    }
    DML_CHECK(
        base.contains(key), origin, ": unknown key '", where, "' (known keys here: ",
        [&] {
          std::string known;
          for (const auto& [k, v] : base.items()) known += (known.empty() ? "" : ", ") + k;
          return known;
        }(),
        ")");
    Json& slot = base[key];
    if (slot.is_object()) {
      overlay(slot, value, where, origin);
      continue;
    }
    DML_CHECK(same_kind(slot, value), origin, ": '", where, "' must be a ", slot.type_name(),
              " like its default ", slot.dump(), ", got ", value.dump());
    slot = value;
  }
}

// "a.b.c=value" to the nested object {"a": {"b": {"c": value}}}.
Json override_as_object(const std::string& text) {
  const size_t eq = text.find('=');
  DML_CHECK(eq != std::string::npos && eq > 0, "override '", text,
            "' must look like section.key=value (e.g. optimizer.lr=1e-4)");
  const std::string path = text.substr(0, eq);
  const Json value = parse_override_value(text.substr(eq + 1), "override '" + path + "=...'");
  // Every string of a config is written back as JSON (config.json, the
  // checkpoint), which must be UTF-8: refuse other bytes here, by name.
  try {
    (void)Json(text).dump();
  } catch (const Json::exception&) {
    throw Error("override '" + path + "=...': not valid UTF-8; configs hold UTF-8 text only");
  }
  std::vector<std::string> keys;
  std::stringstream parts(path);
  for (std::string k; std::getline(parts, k, '.');) keys.push_back(k);
  Json out = value;
  for (auto k = keys.rbegin(); k != keys.rend(); ++k) out = Json{{*k, out}};
  return out;
}

}  // namespace

Json parse_override_value(const std::string& raw, const std::string& origin) {
  const Json value = Json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return raw;  // a bare word is a string
  // An object given whole ("loss.params={...}") may repeat a key, as a file may.
  return value.is_structured() ? parse_json_text(raw, origin) : value;
}

bool same_kind(const Json& like, const Json& value) {
  if (like.is_number_float()) return value.is_number();
  if (like.is_number_integer()) return value.is_number_integer();
  return like.type() == value.type();
}

Json resolve_config(const Json& user, const std::vector<std::string>& overrides,
                    const std::string& origin) {
  Json config = default_config();
  overlay(config, user, "", origin);
  for (const std::string& o : overrides)
    overlay(config, override_as_object(o), "", "override '" + o + "'");
  return config;
}

namespace {

// The leaves of `defaults` under `path`, each with the resolved value: a
// key whose default is not an object, or an object of free keys (one entry).
void collect_entries(const Json& defaults, const Json& resolved, const std::string& path,
                     std::vector<ConfigEntry>& out) {
  for (const auto& [key, value] : defaults.items()) {
    const std::string where = path.empty() ? key : path + "." + key;
    if (value.is_object() && !free_keys(where)) {
      collect_entries(value, resolved.at(key), where, out);
      continue;
    }
    out.push_back({.key = where, .value = resolved.at(key), .default_value = value, .doc = ""});
  }
}

std::string key_doc(const std::string& key) {
  if (const auto doc = trainer_key_docs().find(key); doc != trainer_key_docs().end())
    return doc->second;
  const size_t dot = key.find('.');
  for (const ConfigSection& s : config_sections().entries())
    if (s.name == key.substr(0, dot))
      if (const auto doc = s.docs.find(key.substr(dot + 1)); doc != s.docs.end())
        return doc->second;
  return "";
}

}  // namespace

std::vector<ConfigEntry> config_entries(const Json& resolved) {
  std::vector<ConfigEntry> out;
  collect_entries(default_config(), resolved, "", out);
  for (ConfigEntry& e : out) e.doc = key_doc(e.key);
  return out;
}

Json read_config_file(const std::string& path) {
  // A config is a few kilobytes; parse_json_text bounds the keys of one object.
  constexpr uint64_t kMaxBytes = uint64_t(1) << 20;
  return parse_json_text(read_regular_file(path, "config", " (does the file exist?)", kMaxBytes),
                         path);
}

namespace {

// The elements of an array setting, each checked (an override may put any
// JSON in an array: "eval.recall_ks=[1,\"x\"]").
template <class T>
std::vector<T> list(const Json& j, const std::string& key) {
  constexpr bool text = std::is_same_v<T, std::string>, integer = std::is_integral_v<T>;
  std::vector<T> out;
  for (const Json& v : j) {
    DML_CHECK(text      ? v.is_string()
              : integer ? v.is_number_integer()
                        : v.is_number(),
              key, ": every element must be ",
              text      ? "a string"
              : integer ? "an integer"
                        : "a number",
              ", got ", v.dump());
    out.push_back(v.get<T>());
  }
  return out;
}

std::map<std::string, double> numbers(const Json& j) {
  std::map<std::string, double> out;
  for (const auto& [k, v] : j.items()) out[k] = v.get<double>();
  return out;
}

void check_one_of(const std::string& key, const std::string& value,
                  const std::vector<std::string>& allowed) {
  std::string all;
  for (const std::string& a : allowed) {
    if (a == value) return;
    all += (all.empty() ? "" : ", ") + a;
  }
  throw Error(key + ": '" + value + "' is not one of " + all);
}

constexpr const char* kPrecisionNames[] = {"f32", "tf32", "bf16"};  // Precision's order

}  // namespace

Precision parse_precision(const std::string& name) {
  check_one_of("train.precision", name, {std::begin(kPrecisionNames), std::end(kPrecisionNames)});
  return Precision(std::find(std::begin(kPrecisionNames), std::end(kPrecisionNames), name) -
                   std::begin(kPrecisionNames));
}

const char* precision_name(Precision p) {
  return kPrecisionNames[int(p)];
}

TrainConfig typed_config(const Json& c) {
  TrainConfig t;
  const Json &d = c["data"], &m = c["model"], &l = c["loss"], &o = c["optimizer"],
             &a = c["augment"], &r = c["train"], &e = c["eval"];
  t.data = {.format = d["format"],
            .root = d["root"],
            .train_classes = list<int64_t>(d["train_classes"], "data.train_classes"),
            .test_classes = list<int64_t>(d["test_classes"], "data.test_classes"),
            .train_split = d["train_split"],
            .test_split = d["test_split"],
            .attributes = list<std::string>(d["attributes"], "data.attributes"),
            .skip_bad_images = d["skip_bad_images"],
            .max_image_pixels = d["max_image_pixels"],
            .tone_transform = d["tone_transform"],
            .tone_strength = d["tone_strength"],
            .minority_share = d["minority_share"],
            .test_minority_share = d["test_minority_share"],
            .pattern_transform = d["pattern_transform"],
            .pattern_strength = d["pattern_strength"],
            .pattern_minority_share = d["pattern_minority_share"],
            .pattern_test_minority_share = d["pattern_test_minority_share"]};
  check_one_of("data.format", t.data.format, [] {
    std::vector<std::string> names;
    for (const DataFormat& f : data_formats()) names.push_back(f.name);
    return names;
  }());
  // The tone benchmark's settings, checked whatever the format, so that a
  // sweep over them fails before its first run.
  for (const auto& [key, value] :
       {std::pair{"data.tone_strength", t.data.tone_strength},
        {"data.minority_share", t.data.minority_share},
        {"data.test_minority_share", t.data.test_minority_share},
        {"data.pattern_strength", t.data.pattern_strength},
        {"data.pattern_minority_share", t.data.pattern_minority_share},
        {"data.pattern_test_minority_share", t.data.pattern_test_minority_share}})
    DML_CHECK(value >= 0 && value <= 1, key, " = ", value, " must lie in [0, 1]");
  DML_CHECK(t.data.max_image_pixels >= 1, "data.max_image_pixels = ", t.data.max_image_pixels,
            " must be >= 1 (an image's width x height; default ", data::kDefaultMaxImagePixels,
            ")");
  data::parse_tone_transform(t.data.tone_transform);
  if (!t.data.pattern_transform.empty()) data::parse_tone_transform(t.data.pattern_transform);
  t.model = {.backbone = m["backbone"],
             .in_channels = m["in_channels"],
             .pretrained = m["pretrained"],
             .embedding_dim = m["embedding_dim"],
             .pool = m["pool"],
             .layer_norm = m["layer_norm"],
             .frozen_bn = m["frozen_bn"]};
  check_one_of("model.pool", t.model.pool, {"avg", "max", "avg+max"});
  DML_CHECK(t.model.embedding_dim >= 1, "model.embedding_dim must be >= 1");
  DML_CHECK(t.model.in_channels == 1 || t.model.in_channels == 3,
            "model.in_channels must be 1 (grey) or 3 (RGB)");
  t.loss = {.name = l["name"],
            .params = numbers(l["params"]),
            .lr_multiplier = l["lr_multiplier"],
            .miner = l["miner"],
            .miner_params = numbers(l["miner_params"]),
            .xbm_size = l["xbm_size"],
            .xbm_start_step = l["xbm_start_step"]};
  DML_CHECK(t.loss.xbm_size >= 0 && t.loss.xbm_start_step >= 0,
            "loss.xbm_size and loss.xbm_start_step must be >= 0 (xbm_size 0: no memory)");
  t.optimizer = {.name = o["name"],
                 .lr = o["lr"],
                 .weight_decay = o["weight_decay"],
                 .momentum = o["momentum"],
                 .backbone_lr = o["backbone_lr"],
                 .head_lr = o["head_lr"],
                 .schedule = o["schedule"],
                 .step_size = o["step_size"],
                 .warmup_steps = o["warmup_steps"],
                 .milestones = list<int64_t>(o["milestones"], "optimizer.milestones"),
                 .gamma = o["gamma"]};
  check_one_of("optimizer.name", t.optimizer.name, {"adam", "adamw", "sgd"});
  check_one_of("optimizer.schedule", t.optimizer.schedule, {"none", "step", "multistep", "cosine"});
  DML_CHECK(t.optimizer.lr > 0, "optimizer.lr must be > 0");
  t.augment = {.image_size = a["image_size"],
               .resize = a["resize"],
               .random_resized_crop = a["random_resized_crop"],
               .horizontal_flip = a["horizontal_flip"],
               .scale_min = a["scale_min"],
               .mean = list<double>(a["mean"], "augment.mean"),
               .std = list<double>(a["std"], "augment.std")};
  DML_CHECK(t.augment.image_size >= 8 && t.augment.resize >= t.augment.image_size,
            "augment: image_size must be >= 8 and resize >= image_size");
  DML_CHECK(t.augment.mean.size() == size_t(t.model.in_channels) &&
                t.augment.std.size() == size_t(t.model.in_channels),
            "augment.mean and augment.std need one value per input channel (model.in_channels = ",
            t.model.in_channels, ")");
  t.run = {.epochs = r["epochs"],
           .batch_size = r["batch_size"],
           .m = r["m"],
           .seed = r["seed"],
           .eval_every = e["every"],
           .workers = r["workers"],
           .threads = r["threads"],
           .log_every = r["log_every"],
           .max_steps_per_epoch = r["max_steps_per_epoch"],
           .skip_nonfinite_steps = r["skip_nonfinite_steps"],
           .eval_limit = e["limit"],
           .metric = e["metric"],
           .recall_ks = list<int64_t>(e["recall_ks"], "eval.recall_ks"),
           .clustering = e["clustering"],
           .output = r["output"],
           .device = parse_device(r["device"].get<std::string>()),
           .precision = parse_precision(r["precision"].get<std::string>()),
           .cuda_graph = r["cuda_graph"],
           .channels_last = r["channels_last"]};
  DML_CHECK(t.run.epochs >= 1, "train.epochs must be >= 1");
  DML_CHECK(t.run.batch_size >= 1 && t.run.m >= 1, "train: batch_size (", t.run.batch_size,
            ") and m (", t.run.m, ") must be >= 1");
  DML_CHECK(t.run.max_steps_per_epoch >= 0 && t.run.eval_limit >= 0,
            "train.max_steps_per_epoch and eval.limit must be >= 0 (0: no limit)");
  DML_CHECK(t.run.workers >= 0 && t.run.threads >= 0 && t.run.log_every >= 1,
            "train: workers and threads must be >= 0 and log_every >= 1");
  DML_CHECK(t.run.eval_every >= 0, "eval.every must be >= 0 (0: only after the last epoch)");
  check_one_of("eval.metric", t.run.metric, {"cosine", "euclidean"});
  const Json& dist = c["distributed"];
  t.distributed = {.objective = dist["objective"],
                   .bucket_mb = dist["bucket_mb"],
                   .timeout_seconds = dist["timeout_seconds"],
                   .sync_batch_norm = dist["sync_batch_norm"]};
  check_one_of("distributed.objective", t.distributed.objective, {"global", "local"});
  DML_CHECK(t.distributed.bucket_mb > 0 && t.distributed.timeout_seconds > 0,
            "distributed.bucket_mb and distributed.timeout_seconds must be > 0");
  return t;
}

void use_configured_threads(const RunConfig& run) {
  if (run.threads > 0) {
    omp_set_num_threads(int(run.threads));
    return;
  }
  // Ranks sharing a machine share its cores: all of them each would
  // oversubscribe it (2 ranks on 2 cores: 1 thread each).
  const dist::Communicator& ranks = dist::world();
  if (ranks.size() > 1) omp_set_num_threads(std::max(1, omp_get_num_procs() / ranks.local_size()));
}

}  // namespace dml::train
