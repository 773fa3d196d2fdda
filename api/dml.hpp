// dml.hpp: a header-only C++17 wrapper of dml.h. Handles own their C
// objects (move-only, closed by the destructor); a failed call throws
// dml::deploy::Error carrying the status and the library's message.
//
//   dml::deploy::Model model("model.safetensors");
//   std::vector<float> embeddings = model.embed_files({"a.jpg", "b.png"});
//   dml::deploy::Index index(model.embedding_dim(), DML_METRIC_COSINE);
//   index.add(embeddings, {0, 1});
//   dml::deploy::SearchResults found = index.search(embeddings, 1);
#ifndef DML_HPP
#define DML_HPP

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "dml.h"

namespace dml::deploy {

class Error : public std::exception {
 public:
  Error(dml_status status, std::string message) : status_(status), message_(std::move(message)) {}
  dml_status status() const noexcept { return status_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  dml_status status_;
  std::string message_;
};

namespace detail {

inline void check(dml_status status) {
  if (status != DML_OK) throw Error(status, dml_last_error());
}

// A move-only owner of a C handle and its close function.
template <class Handle, void (*Close)(Handle*)>
class Owner {
 public:
  Owner() = default;
  explicit Owner(Handle* handle) : handle_(handle) {}
  ~Owner() { Close(handle_); }
  Owner(Owner&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Owner& operator=(Owner&& other) noexcept {
    if (this != &other) {
      Close(handle_);
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  Owner(const Owner&) = delete;
  Owner& operator=(const Owner&) = delete;
  Handle* get() const noexcept { return handle_; }

 private:
  Handle* handle_ = nullptr;
};

}  // namespace detail

struct ModelOptions {
  int32_t num_threads = 0;       // 0: OpenMP's default
  int64_t max_image_pixels = 0;  // 0: the library's default
};

class Model {
 public:
  explicit Model(const std::string& path, const ModelOptions& options = {}) {
    dml_model_options c_options;
    dml_model_options_init(&c_options);
    c_options.num_threads = options.num_threads;
    c_options.max_image_pixels = options.max_image_pixels;
    dml_model* model = nullptr;
    detail::check(dml_model_open(path.c_str(), &c_options, &model));
    model_ = Handle(model);
    info_.struct_size = sizeof info_;
    detail::check(dml_model_get_info(model_.get(), &info_));
  }

  const dml_model_info& info() const noexcept { return info_; }
  int64_t embedding_dim() const noexcept { return info_.embedding_dim; }

  // One row of embedding_dim() floats per image, in order.
  std::vector<float> embed_files(const std::vector<std::string>& paths) const {
    std::vector<const char*> c_paths;
    c_paths.reserve(paths.size());
    for (const std::string& path : paths) c_paths.push_back(path.c_str());
    std::vector<float> out(paths.size() * size_t(embedding_dim()));
    detail::check(
        dml_embed_files(model_.get(), c_paths.data(), c_paths.size(), out.data(), out.size()));
    return out;
  }

  std::vector<float> embed_images(const std::vector<dml_image>& images) const {
    std::vector<float> out(images.size() * size_t(embedding_dim()));
    detail::check(
        dml_embed_images(model_.get(), images.data(), images.size(), out.data(), out.size()));
    return out;
  }

  // count preprocessed images, NCHW at the model's input size.
  std::vector<float> embed_tensor(const float* batch, size_t count) const {
    std::vector<float> out(count * size_t(embedding_dim()));
    detail::check(dml_embed_tensor(model_.get(), batch, count, info_.channels, info_.image_size,
                                   info_.image_size, out.data(), out.size()));
    return out;
  }

  const dml_model* handle() const noexcept { return model_.get(); }

 private:
  using Handle = detail::Owner<dml_model, dml_model_close>;
  Handle model_;
  dml_model_info info_{};
};

// Per query, k ids and distances (row-major, count x k); -1 and +infinity
// beyond the rows the index holds.
struct SearchResults {
  size_t count = 0, k = 0;
  std::vector<int64_t> ids;
  std::vector<float> distances;
};

class Index {
 public:
  Index(int64_t dim, dml_metric metric) {
    dml_index* index = nullptr;
    detail::check(dml_index_create(dim, metric, &index));
    index_ = Handle(index);
  }
  static Index load(const std::string& path) {
    dml_index* index = nullptr;
    detail::check(dml_index_load(path.c_str(), &index));
    return Index(Handle(index));
  }

  // vectors: ids.size() rows of dim() floats.
  void add(const std::vector<float>& vectors, const std::vector<int64_t>& ids) {
    if (vectors.size() != ids.size() * size_t(dim()))
      throw Error(DML_ERROR_SHAPE, "dml::deploy::Index::add: " + std::to_string(vectors.size()) +
                                       " floats are not " + std::to_string(ids.size()) +
                                       " rows of " + std::to_string(dim()));
    detail::check(dml_index_add(index_.get(), vectors.data(), ids.data(), ids.size()));
  }

  // queries: whole rows of dim() floats.
  SearchResults search(const std::vector<float>& queries, size_t k) const {
    const size_t width = size_t(dim());
    if (queries.size() % width != 0)
      throw Error(DML_ERROR_SHAPE, "dml::deploy::Index::search: " + std::to_string(queries.size()) +
                                       " floats are not whole rows of " + std::to_string(width));
    SearchResults results;
    results.count = queries.size() / width;
    results.k = k;
    results.ids.resize(results.count * k);
    results.distances.resize(results.count * k);
    detail::check(dml_index_search(index_.get(), queries.data(), results.count, k,
                                   results.ids.data(), results.distances.data()));
    return results;
  }

  int64_t size() const {
    int64_t size = 0;
    detail::check(dml_index_size(index_.get(), &size));
    return size;
  }
  int64_t dim() const {
    int64_t dim = 0;
    detail::check(dml_index_dim(index_.get(), &dim));
    return dim;
  }
  dml_metric metric() const {
    dml_metric metric = DML_METRIC_L2;
    detail::check(dml_index_metric(index_.get(), &metric));
    return metric;
  }
  void save(const std::string& path) const {
    detail::check(dml_index_save(index_.get(), path.c_str()));
  }

  const dml_index* handle() const noexcept { return index_.get(); }

 private:
  using Handle = detail::Owner<dml_index, dml_index_close>;
  explicit Index(Handle handle) : index_(std::move(handle)) {}
  Handle index_;
};

}  // namespace dml::deploy

#endif  // DML_HPP
