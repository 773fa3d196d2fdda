#pragma once
// Reads the JSON fixtures written by tests/golden/make_golden.py.
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

#include "engine/tensor.h"

namespace dml::test {

inline nlohmann::json load_fixture(const std::string& name) {
  std::string path = std::string(DML_SOURCE_DIR) + "/tests/golden/fixtures/" + name;
  std::ifstream in(path);
  if (!in) throw Error("fixture " + path + " is missing; run tests/golden/make_golden.py");
  return nlohmann::json::parse(in);
}

// {"dtype", "shape", "data"} -> Tensor, converted to `as` when floating.
inline Tensor decode(const nlohmann::json& j, DType as = DType::f64) {
  Shape shape = j.at("shape").get<Shape>();
  std::string dtype = j.at("dtype");
  if (dtype == "i64") return from_vector(j.at("data").get<std::vector<int64_t>>(), shape);
  if (dtype == "u8") return from_vector(j.at("data").get<std::vector<uint8_t>>(), shape);
  return from_vector(j.at("data").get<std::vector<double>>(), shape).to(as);
}

}  // namespace dml::test
