#pragma once
// What the C API tests share: tiny models written as `dml train` exports
// them, the training engine's `dml embed` of the same images as the
// reference, and checks that a failed call said why and wrote nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "api/dml.h"
#include "dml/data/image.h"
#include "dml/train/checkpoint.h"
#include "dml/train/config.h"
#include "dml/train/datasets.h"
#include "dml/train/embed.h"
#include "dml/train/model_factory.h"
#include "engine/rng.h"

namespace dml::test {

constexpr float kSentinel = -12345.0f;
constexpr int64_t kEmbeddingDim = 8;
constexpr int64_t kImageSize = 16;

// A small_resnet10 on 16 x 16 crops of images resized to 20, 8 floats out.
inline Json tiny_model_config(int64_t channels) {
  Json config = train::default_config();
  config["model"]["backbone"] = "small_resnet10";
  config["model"]["in_channels"] = channels;
  config["model"]["embedding_dim"] = kEmbeddingDim;
  config["model"]["pool"] = "avg";
  config["model"]["layer_norm"] = false;
  config["model"]["pretrained"] = "";
  config["augment"]["image_size"] = kImageSize;
  config["augment"]["resize"] = 20;
  config["augment"]["mean"] = std::vector<double>(size_t(channels), 0.45);
  config["augment"]["std"] = std::vector<double>(size_t(channels), 0.25);
  return config;
}

// The tensors of a freshly initialised (seeded) tiny model.
inline NamedTensors tiny_model_weights(const Json& config) {
  manual_seed(7);
  const train::TrainConfig typed = train::typed_config(train::resolve_config(config, {}, "test"));
  return train::build_model(typed.model)->state_dict();
}

inline void write_tiny_model(const std::string& path, int64_t channels) {
  const Json config = tiny_model_config(channels);
  train::save_exported_model(path, tiny_model_weights(config), config, Json());
}

// What `dml embed` computes for these files with the model at `model_path`:
// its sample loader (eval transforms) and embed_samples.
inline std::vector<float> training_engine_embedding(const std::string& model_path,
                                                    const std::vector<std::string>& paths) {
  train::TrainedModel trained = train::load_trained_model(model_path, {});
  data::SampleSet set{.name = "images"};
  for (const std::string& path : paths) set.samples.push_back({.path = path, .label = 0});
  const train::Embedded embedded = train::embed_samples(
      *trained.model, set, train::make_sample_loader(trained.typed, false), 4, 0);
  return embedded.embeddings.to_vector<float>();
}

inline dml_model* open_model(const std::string& path, const dml_model_options* options = nullptr) {
  dml_model* model = nullptr;
  EXPECT_EQ(dml_model_open(path.c_str(), options, &model), DML_OK) << dml_last_error();
  return model;
}

// A failed call: its status, a message that names `mention`.
inline void expect_failure(dml_status got, dml_status expected, const std::string& mention) {
  EXPECT_EQ(got, expected) << dml_status_name(got) << ": " << dml_last_error();
  const std::string message = dml_last_error();
  EXPECT_NE(message.find(mention), std::string::npos)
      << "the message should name '" << mention << "': " << message;
}

template <class T>
bool all_sentinel(const std::vector<T>& values, T sentinel) {
  return std::all_of(values.begin(), values.end(), [&](T v) { return v == sentinel; });
}

inline void expect_near_all(const std::vector<float>& got, const std::vector<float>& want,
                            float tolerance = 1e-4f) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tolerance) << "at " << i;
}

}  // namespace dml::test
