#include "dml/train/checkpoint.h"

#include "engine/error.h"
#include "engine/safetensors.h"

namespace dml::train {

namespace {

constexpr const char* kCheckpointFormat = "dml-checkpoint-1";
constexpr const char* kModelFormat = "dml-model-1";

void append_prefixed(NamedTensors& out, const std::string& prefix, const NamedTensors& tensors) {
  for (const auto& [name, t] : tensors) out.emplace_back(prefix + name, t);
}

int64_t metadata_int(const std::map<std::string, std::string>& meta, const std::string& key,
                     const std::string& path) {
  auto it = meta.find(key);
  DML_CHECK(it != meta.end(), "checkpoint ", path, ": metadata lacks '", key, "'");
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    throw Error("checkpoint " + path + ": metadata '" + key + "' is not an integer");
  }
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  NamedTensors tensors;
  append_prefixed(tensors, "model.", c.model);
  append_prefixed(tensors, "loss.", c.loss);
  append_prefixed(tensors, "optim.", c.optimizer);
  append_prefixed(tensors, "ext.", c.extension);
  write_safetensors(path, tensors,
                    {{"format", kCheckpointFormat},
                     {"epochs_done", std::to_string(c.epochs_done)},
                     {"steps", std::to_string(c.steps)},
                     {"config", c.config.dump()}});
}

void save_exported_model(const std::string& path, const NamedTensors& model, const Json& config) {
  write_safetensors(path, model, {{"format", kModelFormat}, {"config", config.dump()}});
}

Checkpoint load_checkpoint(const std::string& path) {
  SafetensorsFile file = read_safetensors(path);
  const auto& meta = file.metadata;
  auto format = meta.find("format");
  DML_CHECK(format != meta.end() &&
                (format->second == kCheckpointFormat || format->second == kModelFormat),
            "checkpoint ", path, ": not a checkpoint or model written by dml train (metadata ",
            "'format' is missing or unknown)");
  auto config = meta.find("config");
  DML_CHECK(config != meta.end(), "checkpoint ", path, ": metadata lacks the run's 'config'");
  Checkpoint c;
  c.config = Json::parse(config->second, nullptr, /*allow_exceptions=*/false);
  DML_CHECK(!c.config.is_discarded(), "checkpoint ", path, ": its 'config' is not valid JSON");
  if (format->second == kModelFormat) {
    c.model = std::move(file.tensors);
    return c;
  }
  c.epochs_done = metadata_int(meta, "epochs_done", path);
  c.steps = metadata_int(meta, "steps", path);
  for (auto& [name, t] : file.tensors) {
    auto take = [&](const std::string& prefix, NamedTensors& into) {
      if (name.rfind(prefix, 0) != 0) return false;
      into.emplace_back(name.substr(prefix.size()), std::move(t));
      return true;
    };
    DML_CHECK(take("model.", c.model) || take("loss.", c.loss) || take("optim.", c.optimizer) ||
                  take("ext.", c.extension),
              "checkpoint ", path, ": tensor '", name, "' belongs to no known part");
  }
  return c;
}

}  // namespace dml::train
