#pragma once
// The pair/triplet loss fixture (tests/golden/make_loss_golden.py ->
// fixtures/losses.json) as test_losses and test_miners read it.
#include <nlohmann/json.hpp>

#include <string>

#include "dml/params.h"
#include "tests/support/fixture.h"

namespace dml::test {

inline const nlohmann::json& loss_fixture() {
  static const nlohmann::json f = load_fixture("losses.json");
  return f;
}

struct FixtureBatch {
  Tensor embeddings, labels;  // f64 [B, D], i64 [B]
};

inline FixtureBatch fixture_batch(const std::string& name) {
  const nlohmann::json& b = loss_fixture().at("batches").at(name);
  return {decode(b.at("embeddings")), decode(b.at("labels"))};
}

// A fixture case's {"name": value} parameters.
inline ParamValues params_of(const nlohmann::json& j) {
  ParamValues p;
  for (const auto& [key, value] : j.items()) p[key] = value.get<double>();
  return p;
}

}  // namespace dml::test
