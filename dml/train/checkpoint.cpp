#include "dml/train/checkpoint.h"

#include <charconv>

#include "base/error.h"
#include "dml/train/file_format.h"
#include "engine/safetensors.h"

namespace dml::train {

namespace {

void append_prefixed(NamedTensors& out, const std::string& prefix, const NamedTensors& tensors) {
  for (const auto& [name, t] : tensors) out.emplace_back(prefix + name, t);
}

uint64_t parse_u64(const std::string& text, const std::string& key, const std::string& path) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  DML_CHECK(ec == std::errc() && end == text.data() + text.size() && !text.empty(), "checkpoint ",
            path, ": metadata '", key, "' is not an unsigned integer: '", text, "'");
  return value;
}

int64_t metadata_int(const std::map<std::string, std::string>& meta, const std::string& key,
                     const std::string& path) {
  auto it = meta.find(key);
  DML_CHECK(it != meta.end(), "checkpoint ", path, ": metadata lacks '", key, "'");
  const uint64_t value = parse_u64(it->second, key, path);
  DML_CHECK(value <= uint64_t(INT64_MAX), "checkpoint ", path, ": metadata '", key,
            "' is out of range: ", it->second);
  return int64_t(value);
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  NamedTensors tensors;
  append_prefixed(tensors, kCheckpointModelPrefix, c.model);
  append_prefixed(tensors, "loss.", c.loss);
  append_prefixed(tensors, "optim.", c.optimizer);
  append_prefixed(tensors, "ext.", c.extension);
  append_prefixed(tensors, "", c.memory);
  std::map<std::string, std::string> meta = {
      {"format", kCheckpointFormat + std::to_string(kCheckpointVersion)},
      {"epochs_done", std::to_string(c.epochs_done)},
      {"steps", std::to_string(c.steps)},
      {"world_size", std::to_string(c.world_size)},
      {"global_batch_size", std::to_string(c.global_batch_size)},
      {"config", c.config.dump()}};
  if (!c.names.is_null()) meta["names"] = c.names.dump();
  if (c.rng) {
    meta["rng_seed"] = std::to_string(c.rng->seed);
    meta["rng_offset"] = std::to_string(c.rng->offset);
  }
  write_safetensors(path, tensors, meta);
}

void save_exported_model(const std::string& path, const NamedTensors& model, const Json& config,
                         const Json& names) {
  std::map<std::string, std::string> meta = {
      {"format", kModelFormat + std::to_string(kModelVersion)}, {"config", config.dump()}};
  if (!names.is_null()) meta["names"] = names.dump();
  write_safetensors(path, model, meta);
}

Checkpoint load_checkpoint(const std::string& path) {
  SafetensorsFile file = read_safetensors(path);
  const auto& meta = file.metadata;
  auto format = meta.find("format");
  const std::string name = format == meta.end() ? "" : format->second;
  const int checkpoint_version = format_version(name, kCheckpointFormat);
  const int model_version = format_version(name, kModelFormat);
  DML_CHECK(checkpoint_version > 0 || model_version > 0, "checkpoint ", path,
            ": not a checkpoint or model written by dml train (metadata 'format' is ",
            format == meta.end() ? "missing" : "'" + name + "'", ")");
  DML_CHECK(checkpoint_version <= kCheckpointVersion && model_version <= kModelVersion,
            "checkpoint ", path, ": format '", name, "' is newer than this build reads (up to ",
            kCheckpointFormat, kCheckpointVersion, ", ", kModelFormat, kModelVersion,
            "); use the dml that wrote it or a newer one");
  auto config = meta.find("config");
  DML_CHECK(config != meta.end(), "checkpoint ", path, ": metadata lacks the run's 'config'");
  Checkpoint c;
  c.config = Json::parse(config->second, nullptr, /*allow_exceptions=*/false);
  DML_CHECK(!c.config.is_discarded() && c.config.is_object(), "checkpoint ", path,
            ": its 'config' is not a JSON object");
  if (auto names = meta.find("names"); names != meta.end()) {
    c.names = Json::parse(names->second, nullptr, /*allow_exceptions=*/false);
    DML_CHECK(!c.names.is_discarded() && c.names.is_object(), "checkpoint ", path,
              ": its 'names' metadata is not a JSON object");
  }
  if (model_version > 0) {
    c.model = std::move(file.tensors);
    return c;
  }
  c.epochs_done = metadata_int(meta, "epochs_done", path);
  c.steps = metadata_int(meta, "steps", path);
  if (meta.count("world_size")) c.world_size = metadata_int(meta, "world_size", path);
  if (meta.count("global_batch_size"))
    c.global_batch_size = metadata_int(meta, "global_batch_size", path);
  auto seed = meta.find("rng_seed"), offset = meta.find("rng_offset");
  DML_CHECK((seed == meta.end()) == (offset == meta.end()), "checkpoint ", path,
            ": metadata holds only one of 'rng_seed' and 'rng_offset'");
  DML_CHECK(checkpoint_version < 2 || seed != meta.end(), "checkpoint ", path,
            ": metadata lacks the generator state 'rng_seed' / 'rng_offset'");
  if (seed != meta.end())
    c.rng = GeneratorState{parse_u64(seed->second, "rng_seed", path),
                           parse_u64(offset->second, "rng_offset", path)};
  for (auto& [tensor_name, t] : file.tensors) {
    // The memory's tensors keep their names, as it reads them back.
    auto take = [&](const std::string& prefix, NamedTensors& into, bool keep_prefix = false) {
      if (tensor_name.rfind(prefix, 0) != 0) return false;
      into.emplace_back(keep_prefix ? tensor_name : tensor_name.substr(prefix.size()),
                        std::move(t));
      return true;
    };
    DML_CHECK(take(kCheckpointModelPrefix, c.model) || take("loss.", c.loss) ||
                  take("optim.", c.optimizer) || take("ext.", c.extension) ||
                  take("xbm.", c.memory, /*keep_prefix=*/true),
              "checkpoint ", path, ": tensor '", tensor_name, "' belongs to no known part");
  }
  return c;
}

}  // namespace dml::train
