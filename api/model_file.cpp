#include "api/model_file.h"

#include <algorithm>
#include <cmath>

#include "api/files.h"
#include "api/status.h"
#include "dml/json.h"
#include "dml/train/file_format.h"
#include "engine/safetensors.h"
#include "layers/resnet_config.h"

namespace dml::api {

namespace {

// Where a damaged file's message says what to do.
constexpr const char* kHowToFix = "; export the model again with dml train";
// The head's Linear, whose rows are the embedding (layers/embedding_head.h).
constexpr const char* kEmbeddingLayer = "head.fc.weight";

// The value at a dotted key ("model.backbone") of the config; missing is an error.
const Json& config_value(const Json& config, const std::string& key, const std::string& path) {
  const Json* node = &config;
  for (size_t begin = 0; begin <= key.size();) {
    const size_t end = std::min(key.find('.', begin), key.size());
    const std::string part = key.substr(begin, end - begin);
    DML_API_CHECK(node->is_object() && node->contains(part), DML_ERROR_FORMAT, "model file '", path,
                  "': its config lacks '", key, "'", kHowToFix);
    node = &(*node)[part];
    begin = end + 1;
  }
  return *node;
}

int64_t config_int(const Json& config, const std::string& key, const std::string& path, int64_t min,
                   int64_t max) {
  const Json& value = config_value(config, key, path);
  const bool ok =
      value.is_number_integer() && value.get<int64_t>() >= min && value.get<int64_t>() <= max;
  DML_API_CHECK(ok, DML_ERROR_FORMAT, "model file '", path, "': config '", key, "' is ",
                value.dump(), ", not an integer in [", min, ", ", max, "]", kHowToFix);
  return value.get<int64_t>();
}

std::string config_string(const Json& config, const std::string& key, const std::string& path) {
  const Json& value = config_value(config, key, path);
  DML_API_CHECK(value.is_string(), DML_ERROR_FORMAT, "model file '", path, "': config '", key,
                "' is ", value.dump(), ", not a string", kHowToFix);
  return value.get<std::string>();
}

bool config_bool(const Json& config, const std::string& key, const std::string& path) {
  const Json& value = config_value(config, key, path);
  DML_API_CHECK(value.is_boolean(), DML_ERROR_FORMAT, "model file '", path, "': config '", key,
                "' is ", value.dump(), ", not true or false", kHowToFix);
  return value.get<bool>();
}

// `count` finite numbers, each > 0 when `positive`.
std::vector<double> config_numbers(const Json& config, const std::string& key,
                                   const std::string& path, int64_t count, bool positive) {
  const Json& value = config_value(config, key, path);
  bool ok = value.is_array() && int64_t(value.size()) == count;
  for (size_t i = 0; ok && i < value.size(); ++i)
    ok = value[i].is_number() && std::isfinite(value[i].get<double>()) &&
         (!positive || value[i].get<double>() > 0);
  DML_API_CHECK(ok, DML_ERROR_FORMAT, "model file '", path, "': config '", key, "' is ",
                value.dump(), ", not ", count, positive ? " positive" : "",
                " finite number(s), one per input channel", kHowToFix);
  std::vector<double> numbers;
  for (const Json& v : value) numbers.push_back(v.get<double>());
  return numbers;
}

// The network and the preprocessing the config describes.
void read_config(const Json& config, const std::string& path, ModelFile& file) {
  nn::InferenceArchitecture& a = file.architecture;
  a.backbone = config_string(config, "model.backbone", path);
  const std::vector<std::string> backbones = nn::resnet_names();
  DML_API_CHECK(std::find(backbones.begin(), backbones.end(), a.backbone) != backbones.end(),
                DML_ERROR_FORMAT, "model file '", path, "': config 'model.backbone' is '",
                a.backbone, "', which this build does not know", kHowToFix);
  a.in_channels = config_int(config, "model.in_channels", path, 1, 3);
  DML_API_CHECK(a.in_channels != 2, DML_ERROR_FORMAT, "model file '", path,
                "': config 'model.in_channels' is 2, not 1 (grey) or 3 (RGB)", kHowToFix);
  a.embedding_dim = config_int(config, "model.embedding_dim", path, 1, int64_t(1) << 24);
  const std::string pool = config_string(config, "model.pool", path);
  const std::optional<nn::GlobalPool> parsed = nn::parse_global_pool(pool);
  DML_API_CHECK(parsed, DML_ERROR_FORMAT, "model file '", path, "': config 'model.pool' is '", pool,
                "', not one of avg, max, avg+max", kHowToFix);
  a.pool = *parsed;
  a.layer_norm = config_bool(config, "model.layer_norm", path);
  // As training requires: a crop of at least 8 pixels out of a resize at
  // least as large. The upper bounds keep a damaged file from planning
  // absurd buffers; the pixel limit checks them against each image.
  file.image_size = config_int(config, "augment.image_size", path, 8, 1 << 16);
  file.resize = config_int(config, "augment.resize", path, file.image_size, 1 << 20);
  file.mean = config_numbers(config, "augment.mean", path, a.in_channels, false);
  file.std = config_numbers(config, "augment.std", path, a.in_channels, true);
}

// The embedding layer holds model.embedding_dim rows, checked before the
// network is built: a damaged config must not size buffers the file does
// not back.
void check_embedding_layer(const ModelFile& file, const std::string& path) {
  const auto layer = std::find_if(file.weights.begin(), file.weights.end(),
                                  [](const auto& named) { return named.first == kEmbeddingLayer; });
  DML_API_CHECK(layer != file.weights.end(), DML_ERROR_FORMAT, "model file '", path,
                "' lacks the tensor '", kEmbeddingLayer, "'", kHowToFix);
  const Shape& shape = layer->second.shape();
  DML_API_CHECK(shape.size() == 2 && shape[0] == file.architecture.embedding_dim, DML_ERROR_FORMAT,
                "model file '", path, "': tensor '", kEmbeddingLayer, "' has shape ",
                shape_str(shape), " but config 'model.embedding_dim' is ",
                file.architecture.embedding_dim, kHowToFix);
}

}  // namespace

ModelFile read_model_file(const std::string& path) {
  require_readable_file(path, "model file");
  SafetensorsFile read =
      with_status(DML_ERROR_FORMAT, "model file: ", [&] { return read_safetensors(path); });
  const auto format = read.metadata.find("format");
  const std::string name = format == read.metadata.end() ? "" : format->second;
  const int checkpoint_version = train::format_version(name, train::kCheckpointFormat);
  const int model_version = train::format_version(name, train::kModelFormat);
  DML_API_CHECK(checkpoint_version > 0 || model_version > 0, DML_ERROR_FORMAT, "model file '", path,
                "' is not a model or checkpoint written by dml train (metadata 'format' is ",
                format == read.metadata.end() ? "missing" : "'" + name + "'", ")");
  DML_API_CHECK(
      checkpoint_version <= train::kCheckpointVersion && model_version <= train::kModelVersion,
      DML_ERROR_FORMAT, "model file '", path, "': format '", name,
      "' is newer than this library reads (up to ", train::kModelFormat, train::kModelVersion, ", ",
      train::kCheckpointFormat, train::kCheckpointVersion, "); use a newer libdml");
  const auto config_text = read.metadata.find("config");
  DML_API_CHECK(config_text != read.metadata.end(), DML_ERROR_FORMAT, "model file '", path,
                "': its metadata lacks 'config'", kHowToFix);
  const Json config = Json::parse(config_text->second, nullptr, /*allow_exceptions=*/false);
  DML_API_CHECK(!config.is_discarded() && config.is_object(), DML_ERROR_FORMAT, "model file '",
                path, "': its 'config' metadata is not a JSON object", kHowToFix);
  ModelFile file;
  read_config(config, path, file);
  if (model_version > 0) {
    file.weights = std::move(read.tensors);
  } else {
    const std::string prefix = train::kCheckpointModelPrefix;
    for (auto& [name, tensor] : read.tensors)
      if (name.starts_with(prefix)) file.weights.emplace_back(name.substr(prefix.size()), tensor);
  }
  check_embedding_layer(file, path);
  return file;
}

}  // namespace dml::api
