// The C API's models and embedding: every argument checked (status, a
// message naming it, outputs untouched), hostile model files, agreement
// with the training engine's `dml embed`, threads.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "api/dml.h"
#include "dml/data/transforms.h"
#include "engine/safetensors.h"
#include "tests/api/c_api_support.h"
#include "tests/support/image_files.h"
#include "tests/support/test_support.h"

namespace dml::test {
namespace {

// A tiny RGB and a tiny grey model, and a few PNG images of assorted sizes
// (portrait, landscape, square; RGB and grey) written once for the suite.
class CApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    write_tiny_model(rgb_path(), 3);
    write_tiny_model(grey_path(), 1);
    const int64_t sizes[][3] = {{24, 30, 3}, {40, 22, 3}, {20, 20, 1}, {33, 27, 3}, {21, 45, 1}};
    for (int i = 0; i < 5; ++i) {
      images_.push_back(pattern_image(sizes[i][0], sizes[i][1], sizes[i][2], i));
      paths_.push_back(dir_->file("image" + std::to_string(i) + ".png"));
      write_image(paths_.back(), images_.back());
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    images_.clear();
    paths_.clear();
  }
  static std::string rgb_path() { return dir_->file("rgb.safetensors"); }
  static std::string grey_path() { return dir_->file("grey.safetensors"); }
  static std::vector<const char*> c_paths() {
    std::vector<const char*> out;
    for (const auto& p : paths_) out.push_back(p.c_str());
    return out;
  }
  static dml_image view(const data::Image& image) {
    return {image.pixels.data(), image.width, image.height, image.channels,
            image.width * image.channels};
  }

  static TempDir* dir_;
  static std::vector<data::Image> images_;
  static std::vector<std::string> paths_;
};
TempDir* CApi::dir_ = nullptr;
std::vector<data::Image> CApi::images_;
std::vector<std::string> CApi::paths_;

TEST_F(CApi, VersionAndStatusNames) {
  const std::string version = dml_version();
  EXPECT_EQ(version.rfind("0.1.0 (commit ", 0), 0u) << version;
  EXPECT_EQ(dml_api_version(), DML_API_VERSION);
  EXPECT_STREQ(dml_status_name(DML_ERROR_FORMAT), "DML_ERROR_FORMAT");
  EXPECT_STREQ(dml_status_name(DML_OK), "DML_OK");
  EXPECT_STREQ(dml_status_name(dml_status(99)), "DML_STATUS_UNKNOWN");
}

TEST_F(CApi, InfoDescribesTheModelFile) {
  dml_model* model = open_model(rgb_path());
  ASSERT_NE(model, nullptr);
  dml_model_info info;
  info.struct_size = sizeof info;
  ASSERT_EQ(dml_model_get_info(model, &info), DML_OK) << dml_last_error();
  EXPECT_EQ(info.embedding_dim, kEmbeddingDim);
  EXPECT_EQ(info.channels, 3);
  EXPECT_EQ(info.image_size, kImageSize);
  EXPECT_EQ(info.resize, 20);
  EXPECT_FLOAT_EQ(info.mean[2], 0.45f);
  EXPECT_FLOAT_EQ(info.std[0], 0.25f);
  EXPECT_STREQ(info.backbone, "small_resnet10");
  int64_t dim = 0;
  ASSERT_EQ(dml_model_embedding_dim(model, &dim), DML_OK);
  EXPECT_EQ(dim, kEmbeddingDim);
  dml_model_close(model);
  dml_model_close(nullptr);
}

TEST_F(CApi, ModelArgumentsAreChecked) {
  dml_model* model = reinterpret_cast<dml_model*>(0x1);  // must stay as it is
  expect_failure(dml_model_open(nullptr, nullptr, &model), DML_ERROR_INVALID_ARGUMENT, "path");
  expect_failure(dml_model_open(rgb_path().c_str(), nullptr, nullptr), DML_ERROR_INVALID_ARGUMENT,
                 "model");
  dml_model_options_init(nullptr);  // nothing to fill, no crash
  dml_model_options options;
  dml_model_options_init(&options);
  EXPECT_EQ(options.struct_size, sizeof options);
  EXPECT_EQ(options.num_threads, 0);
  EXPECT_EQ(options.max_image_pixels, 0);
  options.struct_size = sizeof(size_t);
  expect_failure(dml_model_open(rgb_path().c_str(), &options, &model), DML_ERROR_INVALID_ARGUMENT,
                 "struct_size");
  dml_model_options_init(&options);
  options.num_threads = -1;
  expect_failure(dml_model_open(rgb_path().c_str(), &options, &model), DML_ERROR_INVALID_ARGUMENT,
                 "num_threads");
  dml_model_options_init(&options);
  options.max_image_pixels = -5;
  expect_failure(dml_model_open(rgb_path().c_str(), &options, &model), DML_ERROR_INVALID_ARGUMENT,
                 "max_image_pixels");
  EXPECT_EQ(model, reinterpret_cast<dml_model*>(0x1));

  dml_model* open = open_model(rgb_path());
  dml_model_info info;
  std::memset(&info, 0x5a, sizeof info);
  info.struct_size = 8;
  expect_failure(dml_model_get_info(open, &info), DML_ERROR_INVALID_ARGUMENT, "struct_size");
  EXPECT_EQ(info.embedding_dim, int64_t(0x5a5a5a5a5a5a5a5a));
  expect_failure(dml_model_get_info(nullptr, &info), DML_ERROR_INVALID_ARGUMENT, "model");
  expect_failure(dml_model_get_info(open, nullptr), DML_ERROR_INVALID_ARGUMENT, "info");
  int64_t dim = -7;
  expect_failure(dml_model_embedding_dim(nullptr, &dim), DML_ERROR_INVALID_ARGUMENT, "model");
  expect_failure(dml_model_embedding_dim(open, nullptr), DML_ERROR_INVALID_ARGUMENT, "dim");
  EXPECT_EQ(dim, -7);
  dml_model_close(open);
}

TEST_F(CApi, EmbedArgumentsAreChecked) {
  dml_model* model = open_model(rgb_path());
  ASSERT_NE(model, nullptr);
  std::vector<float> out(2 * kEmbeddingDim, kSentinel);
  const std::vector<const char*> paths = c_paths();
  const char* with_null[] = {paths[0], nullptr};
  // Files.
  expect_failure(dml_embed_files(nullptr, paths.data(), 2, out.data(), out.size()),
                 DML_ERROR_INVALID_ARGUMENT, "model");
  expect_failure(dml_embed_files(model, nullptr, 2, out.data(), out.size()),
                 DML_ERROR_INVALID_ARGUMENT, "paths");
  expect_failure(dml_embed_files(model, with_null, 2, out.data(), out.size()),
                 DML_ERROR_INVALID_ARGUMENT, "paths[1]");
  expect_failure(dml_embed_files(model, paths.data(), 2, nullptr, out.size()),
                 DML_ERROR_INVALID_ARGUMENT, "embeddings");
  expect_failure(dml_embed_files(model, paths.data(), 2, out.data(), out.size() - 1),
                 DML_ERROR_INVALID_ARGUMENT, "capacity");
  // 8-bit images.
  const dml_image good = view(images_[0]);
  auto images_failure = [&](dml_image bad, const std::string& mention) {
    const dml_image pair[] = {good, bad};
    expect_failure(dml_embed_images(model, pair, 2, out.data(), out.size()),
                   DML_ERROR_INVALID_ARGUMENT, mention);
  };
  dml_image bad = good;
  bad.pixels = nullptr;
  images_failure(bad, "images[1].pixels");
  bad = good;
  bad.width = 0;
  images_failure(bad, "images[1]");
  bad = good;
  bad.height = -3;
  images_failure(bad, "images[1]");
  bad = good;
  bad.channels = 2;
  images_failure(bad, "images[1].channels");
  bad = good;
  bad.row_stride = good.width * good.channels - 1;
  images_failure(bad, "images[1].row_stride");
  bad = good;
  bad.width = int64_t(1) << 40;
  images_failure(bad, "max_image_pixels");
  expect_failure(dml_embed_images(model, nullptr, 2, out.data(), out.size()),
                 DML_ERROR_INVALID_ARGUMENT, "images");
  expect_failure(dml_embed_images(model, &good, 1, out.data(), kEmbeddingDim - 1),
                 DML_ERROR_INVALID_ARGUMENT, "capacity");
  // Float batches.
  std::vector<float> batch(2 * 3 * kImageSize * kImageSize, 0.1f);
  expect_failure(
      dml_embed_tensor(model, nullptr, 2, 3, kImageSize, kImageSize, out.data(), out.size()),
      DML_ERROR_INVALID_ARGUMENT, "batch");
  expect_failure(
      dml_embed_tensor(model, batch.data(), 2, 1, kImageSize, kImageSize, out.data(), out.size()),
      DML_ERROR_SHAPE, "channels");
  expect_failure(dml_embed_tensor(model, batch.data(), 1, 3, kImageSize, 2 * kImageSize, out.data(),
                                  out.size()),
                 DML_ERROR_SHAPE, "width");
  expect_failure(dml_embed_tensor(model, batch.data(), 2, 3, kImageSize, kImageSize, out.data(),
                                  2 * kEmbeddingDim - 1),
                 DML_ERROR_INVALID_ARGUMENT, "capacity");
  expect_failure(dml_embed_tensor(model, batch.data(), SIZE_MAX / 2, 3, kImageSize, kImageSize,
                                  out.data(), SIZE_MAX),
                 DML_ERROR_INVALID_ARGUMENT, "count");
  EXPECT_TRUE(all_sentinel(out, kSentinel));
  // Nothing to embed is no error, and writes nothing.
  EXPECT_EQ(dml_embed_files(model, nullptr, 0, nullptr, 0), DML_OK);
  EXPECT_EQ(dml_embed_tensor(model, nullptr, 0, 3, kImageSize, kImageSize, out.data(), 0), DML_OK);
  EXPECT_TRUE(all_sentinel(out, kSentinel));
  dml_model_close(model);
}

TEST_F(CApi, AFileThatFailsFailsTheCallAndWritesNothing) {
  dml_model* model = open_model(rgb_path());
  std::vector<const char*> paths = c_paths();
  const std::string missing = dir_->file("missing.png");
  const std::string garbage = dir_->file("garbage.png");
  write_text(garbage, "not an image at all");
  std::vector<float> out(paths.size() * kEmbeddingDim, kSentinel);
  paths[3] = missing.c_str();
  expect_failure(dml_embed_files(model, paths.data(), paths.size(), out.data(), out.size()),
                 DML_ERROR_IO, "paths[3]");
  paths[3] = garbage.c_str();
  expect_failure(dml_embed_files(model, paths.data(), paths.size(), out.data(), out.size()),
                 DML_ERROR_FORMAT, "paths[3]");
  const std::string directory = dir_->file("");
  paths[3] = directory.c_str();
  expect_failure(dml_embed_files(model, paths.data(), paths.size(), out.data(), out.size()),
                 DML_ERROR_IO, "paths[3]");
  EXPECT_TRUE(all_sentinel(out, kSentinel));
  dml_model_close(model);
}

TEST_F(CApi, ThePixelLimitRefusesLargeImagesBeforeDecoding) {
  dml_model_options options;
  dml_model_options_init(&options);
  options.max_image_pixels = 800;  // the model's resize (20 x 20) fits; image 1 (40 x 22) not
  dml_model* model = open_model(rgb_path(), &options);
  ASSERT_NE(model, nullptr);
  std::vector<float> out(kEmbeddingDim, kSentinel);
  const char* path = paths_[1].c_str();
  expect_failure(dml_embed_files(model, &path, 1, out.data(), out.size()), DML_ERROR_FORMAT,
                 "paths[0]");
  const dml_image image = view(images_[1]);
  expect_failure(dml_embed_images(model, &image, 1, out.data(), out.size()),
                 DML_ERROR_INVALID_ARGUMENT, "max_image_pixels");
  EXPECT_TRUE(all_sentinel(out, kSentinel));
  dml_model_close(model);
  // A limit below the model's own resize refuses the model.
  options.max_image_pixels = 19 * 19;
  dml_model* refused = nullptr;
  expect_failure(dml_model_open(rgb_path().c_str(), &options, &refused), DML_ERROR_FORMAT,
                 "augment.resize");
}

// Files, 8-bit buffers and float batches give what `dml embed` gives.
TEST_F(CApi, FilesImagesAndTensorsAgreeWithTheTrainingEngine) {
  // Only the RGB files: the grey ones become RGB through decoding anyway.
  const std::vector<std::string> files = {paths_[0], paths_[1], paths_[3], paths_[2]};
  const std::vector<size_t> which = {0, 1, 3, 2};
  const std::vector<float> reference = training_engine_embedding(rgb_path(), files);
  dml_model* model = open_model(rgb_path());
  ASSERT_NE(model, nullptr);
  std::vector<const char*> c_files;
  for (const auto& f : files) c_files.push_back(f.c_str());
  std::vector<float> from_files(files.size() * kEmbeddingDim, kSentinel);
  ASSERT_EQ(
      dml_embed_files(model, c_files.data(), files.size(), from_files.data(), from_files.size()),
      DML_OK)
      << dml_last_error();
  expect_near_all(from_files, reference);

  std::vector<dml_image> views;
  for (size_t i : which) views.push_back(view(images_[i]));
  std::vector<float> from_images(files.size() * kEmbeddingDim, kSentinel);
  ASSERT_EQ(
      dml_embed_images(model, views.data(), views.size(), from_images.data(), from_images.size()),
      DML_OK)
      << dml_last_error();
  expect_near_all(from_images, reference);

  dml_model_info info;
  info.struct_size = sizeof info;
  ASSERT_EQ(dml_model_get_info(model, &info), DML_OK);
  const data::TransformConfig transform = data::model_transform_config(
      info.image_size, info.resize, 3, {0.45, 0.45, 0.45}, {0.25, 0.25, 0.25});
  std::vector<float> batch;
  for (size_t i : which) {
    const std::vector<float> one =
        data::transform_eval(data::convert_channels(images_[i], 3), transform).to_vector<float>();
    batch.insert(batch.end(), one.begin(), one.end());
  }
  std::vector<float> from_tensor(files.size() * kEmbeddingDim, kSentinel);
  ASSERT_EQ(dml_embed_tensor(model, batch.data(), files.size(), 3, kImageSize, kImageSize,
                             from_tensor.data(), from_tensor.size()),
            DML_OK)
      << dml_last_error();
  expect_near_all(from_tensor, reference);
  dml_model_close(model);
}

// A strided buffer (rows padded) reads only each row's pixels.
TEST_F(CApi, RowStrideSkipsPadding) {
  dml_model* model = open_model(rgb_path());
  const data::Image& image = images_[0];
  const int64_t row = image.width * 3, stride = row + 5;
  std::vector<uint8_t> padded(size_t(stride * image.height), 0xee);
  for (int64_t y = 0; y < image.height; ++y)
    std::memcpy(padded.data() + y * stride, image.pixels.data() + y * row, size_t(row));
  const dml_image strided{padded.data(), image.width, image.height, 3, stride};
  const dml_image plain = view(image);
  std::vector<float> a(kEmbeddingDim), b(kEmbeddingDim);
  ASSERT_EQ(dml_embed_images(model, &strided, 1, a.data(), a.size()), DML_OK);
  ASSERT_EQ(dml_embed_images(model, &plain, 1, b.data(), b.size()), DML_OK);
  EXPECT_EQ(a, b);
  dml_model_close(model);
}

// RGB pixels feed a grey model through the luma weights a decoded file gets.
TEST_F(CApi, RgbImagesFeedAGreyModel) {
  const std::vector<std::string> files = {paths_[0], paths_[2]};  // RGB, grey
  const std::vector<float> reference = training_engine_embedding(grey_path(), files);
  dml_model* model = open_model(grey_path());
  ASSERT_NE(model, nullptr);
  const dml_image views[] = {view(images_[0]), view(images_[2])};
  std::vector<float> out(2 * kEmbeddingDim, kSentinel);
  ASSERT_EQ(dml_embed_images(model, views, 2, out.data(), out.size()), DML_OK) << dml_last_error();
  expect_near_all(out, reference);
  dml_model_close(model);
}

// More images than one batch holds, from 4 threads at once on one model,
// with a thread count of their own: each gets the serial result.
TEST_F(CApi, ThreadsSharingAModelGetTheSerialResult) {
  dml_model_options options;
  dml_model_options_init(&options);
  options.num_threads = 2;
  dml_model* model = open_model(rgb_path(), &options);
  ASSERT_NE(model, nullptr);
  std::vector<dml_image> views;
  for (int i = 0; i < 37; ++i) views.push_back(view(images_[size_t(i) % images_.size()]));
  std::vector<float> serial(views.size() * kEmbeddingDim);
  const int before = omp_get_max_threads();
  ASSERT_EQ(dml_embed_images(model, views.data(), views.size(), serial.data(), serial.size()),
            DML_OK)
      << dml_last_error();
  EXPECT_EQ(omp_get_max_threads(), before) << "the call's thread count must not leak out";
  // Image i and image i + 5 are the same, across the batch boundary too
  // (within rounding: their place in a batch changes the blocking).
  for (size_t i = 0; i + 5 < views.size(); ++i)
    for (int64_t j = 0; j < kEmbeddingDim; ++j)
      EXPECT_NEAR(serial[i * kEmbeddingDim + size_t(j)],
                  serial[(i + 5) * kEmbeddingDim + size_t(j)], 1e-5f);
  std::vector<std::vector<float>> results(4, std::vector<float>(serial.size(), kSentinel));
  std::vector<dml_status> statuses(4, DML_ERROR_INTERNAL);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      statuses[t] =
          dml_embed_images(model, views.data(), views.size(), results[t].data(), results[t].size());
    });
  for (auto& thread : threads) thread.join();
  for (size_t t = 0; t < 4; ++t) {
    EXPECT_EQ(statuses[t], DML_OK);
    expect_near_all(results[t], serial, 1e-6f);
  }
  dml_model_close(model);
}

TEST_F(CApi, LastErrorIsPerThread) {
  dml_model* model = nullptr;
  expect_failure(dml_model_open(nullptr, nullptr, &model), DML_ERROR_INVALID_ARGUMENT, "path");
  std::string other;
  std::thread([&] { other = dml_last_error(); }).join();
  EXPECT_EQ(other, "");
  EXPECT_NE(std::string(dml_last_error()), "");
}

// ---- hostile model files ---------------------------------------------------

class HostileModel : public CApi {
 protected:
  void expect_refused(const std::string& path, dml_status status, const std::string& mention) {
    dml_model* model = reinterpret_cast<dml_model*>(0x1);
    expect_failure(dml_model_open(path.c_str(), nullptr, &model), status, mention);
    EXPECT_EQ(model, reinterpret_cast<dml_model*>(0x1));
  }
  void write_model_with(const std::string& path, const NamedTensors& tensors,
                        const std::map<std::string, std::string>& metadata) {
    write_safetensors(path, tensors, metadata);
  }
  TempDir scratch_;
};

TEST_F(HostileModel, TruncatedFilesAreFormatErrors) {
  const std::string bytes = read_text(rgb_path());
  for (size_t keep :
       {size_t(0), size_t(5), size_t(8), size_t(200), bytes.size() / 2, bytes.size() - 1}) {
    const std::string path = scratch_.file("cut" + std::to_string(keep));
    write_text(path, bytes.substr(0, keep));
    expect_refused(path, DML_ERROR_FORMAT, path);
  }
}

TEST_F(HostileModel, MissingFilesAndDirectoriesAreIoErrors) {
  expect_refused(scratch_.file("nothing.safetensors"), DML_ERROR_IO, "nothing.safetensors");
  expect_refused(scratch_.file(""), DML_ERROR_IO, "not a regular file");
}

TEST_F(HostileModel, FormatNamesAreChecked) {
  const Json config = tiny_model_config(3);
  const NamedTensors weights = tiny_model_weights(config);
  const std::string path = scratch_.file("model.safetensors");
  write_model_with(path, weights, {{"format", "dml-index-1"}, {"config", config.dump()}});
  expect_refused(path, DML_ERROR_FORMAT, "dml-index-1");
  write_model_with(path, weights, {{"config", config.dump()}});
  expect_refused(path, DML_ERROR_FORMAT, "missing");
  write_model_with(path, weights, {{"format", "dml-model-99"}, {"config", config.dump()}});
  expect_refused(path, DML_ERROR_FORMAT, "newer");
  write_model_with(path, weights, {{"format", "dml-checkpoint-3"}, {"config", config.dump()}});
  expect_refused(path, DML_ERROR_FORMAT, "newer");
  write_model_with(path, weights, {{"format", "dml-model-1"}});
  expect_refused(path, DML_ERROR_FORMAT, "config");
  write_model_with(path, weights, {{"format", "dml-model-1"}, {"config", "{not json"}});
  expect_refused(path, DML_ERROR_FORMAT, "JSON");
}

TEST_F(HostileModel, EveryConfigKeyIsChecked) {
  const NamedTensors weights = tiny_model_weights(tiny_model_config(3));
  const std::string path = scratch_.file("model.safetensors");
  const std::vector<std::pair<std::string, std::string>> keys = {
      {"model", "backbone"}, {"model", "in_channels"}, {"model", "embedding_dim"},
      {"model", "pool"},     {"model", "layer_norm"},  {"augment", "image_size"},
      {"augment", "resize"}, {"augment", "mean"},      {"augment", "std"}};
  for (const auto& [section, key] : keys) {
    const std::string name = section + "." + key;
    Json missing = tiny_model_config(3);
    missing[section].erase(key);
    train::save_exported_model(path, weights, missing, Json());
    expect_refused(path, DML_ERROR_FORMAT, name);
    Json invalid = tiny_model_config(3);
    invalid[section][key] = "resnet9000";
    if (key == "backbone") invalid[section][key] = 12;
    train::save_exported_model(path, weights, invalid, Json());
    expect_refused(path, DML_ERROR_FORMAT, name);
  }
  const std::vector<std::pair<std::string, Json>> out_of_range = {
      {"model.backbone", "resnet9000"},
      {"model.in_channels", 2},
      {"model.pool", "median"},
      {"augment.image_size", 4},
      {"augment.resize", 10},
      {"augment.std", std::vector<double>{0.2, 0.0, 0.2}},
      {"augment.mean", std::vector<double>{0.5}}};
  for (const auto& [name, value] : out_of_range) {
    Json invalid = tiny_model_config(3);
    const size_t dot = name.find('.');
    invalid[name.substr(0, dot)][name.substr(dot + 1)] = value;
    train::save_exported_model(path, weights, invalid, Json());
    expect_refused(path, DML_ERROR_FORMAT, name);
  }
}

TEST_F(HostileModel, TensorsMustFitTheConfig) {
  const Json config = tiny_model_config(3);
  NamedTensors weights = tiny_model_weights(config);
  const std::string path = scratch_.file("model.safetensors");
  // A config saying 16 floats out for weights of 8.
  Json wider = config;
  wider["model"]["embedding_dim"] = 16;
  train::save_exported_model(path, weights, wider, Json());
  expect_refused(path, DML_ERROR_FORMAT, "head.fc");
  // A tensor missing.
  NamedTensors fewer(weights.begin() + 1, weights.end());
  train::save_exported_model(path, fewer, config, Json());
  expect_refused(path, DML_ERROR_FORMAT, weights.front().first);
  // A non-finite weight.
  NamedTensors nan = weights;
  nan.front().second = nan.front().second.clone();
  nan.front().second.data<float>()[0] = std::nanf("");
  train::save_exported_model(path, nan, config, Json());
  expect_refused(path, DML_ERROR_FORMAT, weights.front().first);
}

// A checkpoint opens as its model: the same embedding as the export.
TEST_F(HostileModel, ACheckpointOpensAsItsModel) {
  const Json config = tiny_model_config(3);
  train::Checkpoint checkpoint;
  checkpoint.model = tiny_model_weights(config);
  checkpoint.config = config;
  checkpoint.rng = GeneratorState{1, 2};
  checkpoint.optimizer = {{"0.0.step", zeros({1})}};
  const std::string path = scratch_.file("checkpoint.safetensors");
  train::save_checkpoint(path, checkpoint);
  dml_model* from_checkpoint = open_model(path);
  dml_model* exported = open_model(rgb_path());
  ASSERT_NE(from_checkpoint, nullptr);
  ASSERT_NE(exported, nullptr);
  const dml_image image = view(images_[0]);
  std::vector<float> a(kEmbeddingDim), b(kEmbeddingDim);
  ASSERT_EQ(dml_embed_images(from_checkpoint, &image, 1, a.data(), a.size()), DML_OK);
  ASSERT_EQ(dml_embed_images(exported, &image, 1, b.data(), b.size()), DML_OK);
  EXPECT_EQ(a, b);
  dml_model_close(from_checkpoint);
  dml_model_close(exported);
}

}  // namespace
}  // namespace dml::test
