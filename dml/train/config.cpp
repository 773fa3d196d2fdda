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
      "lr_multiplier": 0,
      "miner": "none",
      "miner_params": {}
    },
    "optimizer": {
      "name": "adam",
      "lr": 0.001,
      "weight_decay": 0.0004,
      "momentum": 0.9,
      "backbone_lr": 0,
      "head_lr": 0,
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
  const std::string path = text.substr(0, eq), raw = text.substr(eq + 1);
  Json value = Json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = raw;  // a bare word is a string
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

Json read_config_file(const std::string& path) {
  // A config is a few kilobytes. Ordered JSON objects find a key by linear
  // search, so an object of n keys parses in O(n^2) (10^5 keys: 50 s): both
  // the file and the keys of one object are bounded.
  constexpr uint64_t kMaxBytes = uint64_t(1) << 20;
  constexpr size_t kMaxKeys = 1000;
  const std::string text = read_regular_file(path, "config", " (does the file exist?)", kMaxBytes);
  std::vector<size_t> keys;  // per open object
  auto bound_keys = [&](int, Json::parse_event_t event, Json&) {
    if (event == Json::parse_event_t::object_start) keys.push_back(0);
    if (event == Json::parse_event_t::object_end) keys.pop_back();
    DML_CHECK(event != Json::parse_event_t::key || ++keys.back() <= kMaxKeys, "config ", path,
              ": an object holds more than ", kMaxKeys, " keys; no config needs that many");
    return true;
  };
  Json j = Json::parse(text, bound_keys, /*allow_exceptions=*/false);
  DML_CHECK(!j.is_discarded(), "config ", path, ": not valid JSON");
  return j;
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
  check_one_of("data.format", t.data.format,
               {"fashion_mnist", "fashion_mnist_tone", "cub200", "cars196", "sop", "inshop",
                "celeba", "lfw", "csv"});
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
            .miner_params = numbers(l["miner_params"])};
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
  DML_CHECK(t.run.workers >= 0 && t.run.threads >= 0 && t.run.log_every >= 1,
            "train: workers and threads must be >= 0 and log_every >= 1");
  DML_CHECK(t.run.eval_every >= 0, "eval.every must be >= 0 (0: only after the last epoch)");
  check_one_of("eval.metric", t.run.metric, {"cosine", "euclidean"});
  return t;
}

void use_configured_threads(const RunConfig& run) {
  if (run.threads > 0) omp_set_num_threads(int(run.threads));
}

}  // namespace dml::train
