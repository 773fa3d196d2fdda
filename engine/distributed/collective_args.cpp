#include "engine/distributed/collective_args.h"

#include <algorithm>
#include <cstdio>

#include "base/error.h"

namespace dml::dist {

void check_reducible(const Tensor& t, const char* collective) {
  const DType d = t.dtype();
  const bool exact = d == DType::f32 || d == DType::f64 || d == DType::i32 || d == DType::i64;
  const bool half = (d == DType::bf16 || d == DType::f16) && t.device().is_cuda();
  DML_CHECK(exact || half, collective, ": cannot sum ", describe(t),
            " across ranks; reduce f32, f64, i32 or i64 (bf16 and f16 on CUDA only)");
}

void check_root(int root, int size, const char* collective) {
  DML_CHECK(root >= 0 && root < size, collective, ": root ", root, " is not a rank of ", size);
}

namespace {

int64_t device_code(const Device& d) {
  return d.is_cuda() ? 1 : 0;
}

// f32[*, 3] cpu: a rank's input as the error names it (rows left out: they may differ).
std::string layout_str(const int64_t* layout) {
  Shape trailing(layout + 4, layout + 4 + layout[3]);
  std::string dims = "*";
  for (int64_t d : trailing) dims += ", " + std::to_string(d);
  return detail::concat(dtype_name(DType(layout[1])), "[", dims, "] ", layout[2] ? "cuda" : "cpu");
}

}  // namespace

std::vector<int64_t> encode_row_layout(const Tensor& local) {
  DML_CHECK(local.dim() >= 1 && local.dim() <= kMaxGatherDims + 1,
            "all_gather_rows: ", describe(local), " must have 1 to ", kMaxGatherDims + 1,
            " dims (rows first)");
  std::vector<int64_t> layout(kRowLayoutInts, 0);
  layout[0] = local.size(0);
  layout[1] = int64_t(local.dtype());
  layout[2] = device_code(local.device());
  layout[3] = local.dim() - 1;
  for (int64_t d = 1; d < local.dim(); ++d) layout[3 + d] = local.size(d);
  return layout;
}

std::vector<int64_t> check_row_layouts(const std::vector<int64_t>& layouts, int size) {
  DML_CHECK(layouts.size() == size_t(size) * kRowLayoutInts, "all_gather_rows: got the layouts of ",
            layouts.size() / kRowLayoutInts, " ranks, not ", size);
  std::vector<int64_t> counts(size);
  const int64_t* first = layouts.data();
  for (int r = 0; r < size; ++r) {
    const int64_t* mine = first + size_t(r) * kRowLayoutInts;
    counts[r] = mine[0];
    bool same = true;
    for (int i = 1; i < kRowLayoutInts; ++i) same = same && mine[i] == first[i];
    DML_CHECK(same, "all_gather_rows: rank 0 gives ", layout_str(first), " but rank ", r, " gives ",
              layout_str(mine),
              "; every rank must gather rows of the same trailing shape, dtype and device");
  }
  return counts;
}

size_t row_bytes(const Tensor& t) {
  const Shape trailing(t.shape().begin() + std::min<int64_t>(t.dim(), 1), t.shape().end());
  return size_t(shape_numel(trailing)) * dtype_size(t.dtype());
}

std::string payload_size(size_t bytes) {
  char text[32];
  if (bytes < 1000)
    std::snprintf(text, sizeof text, "%zu B", bytes);
  else if (bytes < 1000 * 1000)
    std::snprintf(text, sizeof text, "%.1f kB", double(bytes) / 1e3);
  else if (bytes < size_t(1000) * 1000 * 1000)
    std::snprintf(text, sizeof text, "%.1f MB", double(bytes) / 1e6);
  else
    std::snprintf(text, sizeof text, "%.1f GB", double(bytes) / 1e9);
  return text;
}

}  // namespace dml::dist
