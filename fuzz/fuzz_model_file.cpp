// libFuzzer target: dml_model_open on arbitrary bytes, then, when the file
// opens, dml_embed_tensor of one zero image. A hostile file must end in a
// status other than DML_OK with a message, nothing written to the handle;
// anything else (a crash, a sanitizer report, an allocation beyond
// -rss_limit_mb) is a bug.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "api/dml.h"
#include "fuzz/memory_file.h"

namespace {

// Inputs larger than this are not embedded: the fuzzer looks for bugs in
// reading the file, not for a slow forward pass.
constexpr int64_t kMaxEmbeddedImageSize = 64;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const dml::fuzz::MemoryFile file(data, size);
  dml_model* model = nullptr;
  if (dml_model_open(file.path().c_str(), nullptr, &model) != DML_OK) {
    if (model != nullptr || dml_last_error()[0] == '\0') __builtin_trap();
    return 0;
  }
  dml_model_info info;
  info.struct_size = sizeof info;
  if (dml_model_get_info(model, &info) != DML_OK) __builtin_trap();
  if (info.image_size <= kMaxEmbeddedImageSize) {
    std::vector<float> image(size_t(info.channels * info.image_size * info.image_size), 0.0f);
    std::vector<float> embedding(size_t(info.embedding_dim));
    if (dml_embed_tensor(model, image.data(), 1, info.channels, info.image_size, info.image_size,
                         embedding.data(), embedding.size()) != DML_OK)
      __builtin_trap();
  }
  dml_model_close(model);
  return 0;
}
