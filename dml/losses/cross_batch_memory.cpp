#include "dml/losses/cross_batch_memory.h"

#include <algorithm>
#include <map>

#include "dml/miners/tuples.h"
#include "engine/ops.h"

namespace dml::losses {

namespace {

constexpr const char* kEmbeddings = "xbm.embeddings";
constexpr const char* kLabels = "xbm.labels";

// The rows [begin, begin + count) of a ring of `ring.size(0)` rows, in
// order: a view when they do not wrap, else the two runs joined.
Tensor ring_rows(const Tensor& ring, int64_t begin, int64_t count) {
  const int64_t capacity = ring.size(0);
  if (begin + count <= capacity) return ring.slice(begin, begin + count);
  return concat({ring.slice(begin, capacity), ring.slice(0, begin + count - capacity)}, 0);
}

// Copies src's rows into the ring from row `at` on, wrapping at its end
// (src has at most as many rows as the ring).
void write_ring(const Tensor& ring, int64_t at, const Tensor& src) {
  const int64_t rows = src.size(0), capacity = ring.size(0);
  const int64_t first = std::min(rows, capacity - at);
  copy_into(ring.slice(at, at + first), src.slice(0, first));
  if (first < rows) copy_into(ring.slice(0, rows - first), src.slice(first, rows));
}

}  // namespace

CrossBatchMemory::CrossBatchMemory(int64_t capacity, int64_t dim, Device device) {
  DML_CHECK(capacity >= 1 && dim >= 1,
            "CrossBatchMemory: capacity and embedding size must be positive, got capacity ",
            capacity, " and dim ", dim, "; set loss.xbm_size >= 1 (0 turns the memory off)");
  rows_ = zeros({capacity, dim}, DType::f32, device);
  labels_ = zeros({capacity}, DType::i64, device);
}

void CrossBatchMemory::enqueue(const Tensor& embeddings, const Tensor& labels) {
  const char* who = "CrossBatchMemory::enqueue";
  miners::check_batch(embeddings, labels, who);
  DML_CHECK(embeddings.size(1) == rows_.size(1), who, ": embeddings ", describe(embeddings),
            " do not match the memory's embedding size ", rows_.size(1));
  const int64_t rows = embeddings.size(0), kept = std::min(rows, capacity());
  // Only the last `capacity` rows would survive: write just those.
  write_ring(rows_, next_, embeddings.detach().slice(rows - kept, rows));
  write_ring(labels_, next_, labels.slice(rows - kept, rows));
  next_ = (next_ + kept) % capacity();
  count_ = std::min(count_ + kept, capacity());
}

Tensor CrossBatchMemory::embeddings() const {
  return ring_rows(rows_, oldest(), count_);
}

Tensor CrossBatchMemory::labels() const {
  return ring_rows(labels_, oldest(), count_);
}

int64_t CrossBatchMemory::count() const {
  return count_;
}

int64_t CrossBatchMemory::capacity() const {
  return rows_.size(0);
}

NamedTensors CrossBatchMemory::state_dict() const {
  return {{kEmbeddings, embeddings().clone()}, {kLabels, labels().clone()}};
}

void CrossBatchMemory::load_state_dict(const NamedTensors& state) {
  const char* who = "CrossBatchMemory::load_state_dict";
  std::map<std::string, Tensor> given;
  for (const auto& [name, t] : state) {
    DML_CHECK(name == kEmbeddings || name == kLabels, who, ": unexpected tensor '", name,
              "'; the memory's state is '", kEmbeddings, "' and '", kLabels, "' alone");
    DML_CHECK(given.emplace(name, t).second, who, ": tensor '", name, "' appears twice");
  }
  for (const char* name : {kEmbeddings, kLabels})
    DML_CHECK(given.count(name), who, ": the state lacks '", name,
              "'; the checkpoint was not written with a cross-batch memory");
  const Tensor& e = given.at(kEmbeddings);
  const Tensor& y = given.at(kLabels);
  const int64_t dim = rows_.size(1);
  DML_CHECK(e.dtype() == DType::f32 && e.dim() == 2 && e.size(1) == dim, who, ": '", kEmbeddings,
            "' must be f32 [count, ", dim, "], got ", describe(e));
  DML_CHECK(e.size(0) <= capacity(), who, ": '", kEmbeddings, "' holds ", e.size(0),
            " rows, more than the memory's capacity ", capacity(),
            "; resume with loss.xbm_size >= ", e.size(0));
  DML_CHECK(y.dtype() == DType::i64 && y.dim() == 1 && y.size(0) == e.size(0), who, ": '", kLabels,
            "' must be i64 [", e.size(0), "] (one per row of '", kEmbeddings, "'), got ",
            describe(y));
  const int64_t count = e.size(0);
  copy_into(rows_.slice(0, count), e);
  copy_into(labels_.slice(0, count), y);
  count_ = count;
  next_ = count % capacity();
}

}  // namespace dml::losses
