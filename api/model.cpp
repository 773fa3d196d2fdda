// Opening and describing models: dml_model_options_init, dml_model_open,
// dml_model_close, dml_model_get_info, dml_model_embedding_dim.
#include <cstddef>
#include <cstring>
#include <memory>

#include "api/arguments.h"
#include "api/call_threads.h"
#include "api/model.h"
#include "api/model_file.h"
#include "api/status.h"
#include "dml/data/image.h"

namespace dml::api {

namespace {

// The end of the last field of API version 1: every program knows these, so
// a struct_size below it is a caller's mistake, not an older program.
constexpr size_t kOptionsVersion1Size =
    offsetof(dml_model_options, max_image_pixels) + sizeof(dml_model_options::max_image_pixels);
constexpr size_t kInfoVersion1Size =
    offsetof(dml_model_info, backbone) + sizeof(dml_model_info::backbone);

// The most pixels options.max_image_pixels may allow: a resized image's
// sizes then stay far from overflowing int64 arithmetic.
constexpr int64_t kMaxImagePixelsLimit = int64_t(1) << 40;

struct Options {
  int num_threads = 0;
  int64_t max_image_pixels = data::kDefaultMaxImagePixels;
};

Options read_options(const dml_model_options* options) {
  Options read;
  if (options == nullptr) return read;
  DML_API_CHECK(options->struct_size >= kOptionsVersion1Size, DML_ERROR_INVALID_ARGUMENT,
                "options->struct_size is ", options->struct_size, ", less than the ",
                kOptionsVersion1Size,
                " bytes of dml_model_options' first version; call "
                "dml_model_options_init first");
  DML_API_CHECK(options->num_threads >= 0, DML_ERROR_INVALID_ARGUMENT, "options->num_threads is ",
                options->num_threads, "; pass 0 (OpenMP's default) or a thread count");
  DML_API_CHECK(options->max_image_pixels >= 0 && options->max_image_pixels <= kMaxImagePixelsLimit,
                DML_ERROR_INVALID_ARGUMENT, "options->max_image_pixels is ",
                options->max_image_pixels, "; pass 0 (the default, ", data::kDefaultMaxImagePixels,
                ") or a limit up to 2^40");
  read.num_threads = options->num_threads;
  if (options->max_image_pixels > 0) read.max_image_pixels = options->max_image_pixels;
  return read;
}

std::unique_ptr<dml_model> open_model(const std::string& path, const Options& options) {
  ModelFile file = read_model_file(path);
  const nn::InferenceArchitecture& a = file.architecture;
  DML_API_CHECK(a.backbone.size() < sizeof(dml_model_info::backbone), DML_ERROR_FORMAT,
                "model file '", path, "': backbone name '", a.backbone, "' is too long");
  DML_API_CHECK(saturating_mul(file.resize, file.resize) <= options.max_image_pixels,
                DML_ERROR_FORMAT, "model file '", path, "': its images are resized to at least ",
                file.resize, " x ", file.resize, " pixels (augment.resize), over the limit of ",
                options.max_image_pixels, "; raise options.max_image_pixels");
  nn::InferenceModel network = with_status(DML_ERROR_FORMAT, "model file '" + path + "': ", [&] {
    return nn::InferenceModel(file.architecture, file.weights);
  });
  return std::unique_ptr<dml_model>(
      new dml_model{.network = std::move(network),
                    .transform = data::model_transform_config(file.image_size, file.resize,
                                                              a.in_channels, file.mean, file.std),
                    .num_threads = options.num_threads,
                    .max_image_pixels = options.max_image_pixels});
}

void fill_info(const dml_model& model, dml_model_info& info) {
  const nn::InferenceArchitecture& a = model.network.architecture();
  info.embedding_dim = a.embedding_dim;
  info.channels = a.in_channels;
  info.image_size = model.transform.image_size;
  info.resize = model.transform.resize;
  // A grey model has one mean and std; the unused slots are 0.
  for (size_t c = 0; c < 3; ++c) {
    info.mean[c] = c < model.transform.mean.size() ? model.transform.mean[c] : 0.0f;
    info.std[c] = c < model.transform.std.size() ? model.transform.std[c] : 0.0f;
  }
  std::memset(info.backbone, 0, sizeof(info.backbone));
  std::memcpy(info.backbone, a.backbone.data(), a.backbone.size());
}

}  // namespace

}  // namespace dml::api

using namespace dml::api;

extern "C" {

void dml_model_options_init(dml_model_options* options) {
  if (options == nullptr) return;
  *options = dml_model_options{};
  options->struct_size = sizeof(dml_model_options);
}

dml_status dml_model_open(const char* path, const dml_model_options* options, dml_model** model) {
  return guarded(__func__, [&] {
    require_pointer(path, "path", "the path of a model file written by dml train");
    require_pointer(model, "model", "the address of a dml_model* to receive the model");
    const Options read = read_options(options);
    const CallThreads threads(read.num_threads);
    *model = open_model(path, read).release();
  });
}

void dml_model_close(dml_model* model) {
  delete model;
}

dml_status dml_model_get_info(const dml_model* model, dml_model_info* info) {
  return guarded(__func__, [&] {
    require_pointer(model, "model", "a model from dml_model_open");
    require_pointer(info, "info", "a dml_model_info with struct_size set");
    DML_API_CHECK(info->struct_size >= kInfoVersion1Size, DML_ERROR_INVALID_ARGUMENT,
                  "info->struct_size is ", info->struct_size, ", less than the ", kInfoVersion1Size,
                  " bytes of dml_model_info's first version; set it to "
                  "sizeof(dml_model_info)");
    fill_info(*model, *info);
  });
}

dml_status dml_model_embedding_dim(const dml_model* model, int64_t* dim) {
  return guarded(__func__, [&] {
    require_pointer(model, "model", "a model from dml_model_open");
    require_pointer(dim, "dim", "the address of an int64_t");
    *dim = model->network.embedding_dim();
  });
}

}  // extern "C"
