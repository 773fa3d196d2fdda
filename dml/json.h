#pragma once
// The JSON type of configs, checkpoints' metadata, metrics lines and audit
// documents. Ordered, so a document is written back with its keys in the
// order they were given (a resolved config reads like its defaults).
#include <nlohmann/json.hpp>

namespace dml {

using Json = nlohmann::ordered_json;

}  // namespace dml
