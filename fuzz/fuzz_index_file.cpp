// libFuzzer target: dml_index_load on arbitrary bytes, then, when the file
// loads, a search of one query of ones for 3 neighbours. A hostile file must end
// in a status other than DML_OK with a message, nothing written to the
// handle; anything else (a crash, a sanitizer report, an allocation beyond
// -rss_limit_mb) is a bug.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "api/dml.h"
#include "fuzz/memory_file.h"

namespace {

// A file may claim a wide row with no rows at all; the query is not built
// beyond this width.
constexpr int64_t kMaxQueryDim = 4096;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const dml::fuzz::MemoryFile file(data, size);
  dml_index* index = nullptr;
  if (dml_index_load(file.path().c_str(), &index) != DML_OK) {
    if (index != nullptr || dml_last_error()[0] == '\0') __builtin_trap();
    return 0;
  }
  int64_t dim = 0, rows = 0;
  if (dml_index_dim(index, &dim) != DML_OK || dml_index_size(index, &rows) != DML_OK || dim < 1 ||
      rows < 0)
    __builtin_trap();
  if (dim <= kMaxQueryDim) {
    std::vector<float> query(size_t(dim), 1.0f);
    int64_t ids[3];
    float distances[3];
    if (dml_index_search(index, query.data(), 1, 3, ids, distances) != DML_OK) __builtin_trap();
    for (int j = 0; j < 3; ++j)
      if ((j < rows) != (ids[j] >= 0)) __builtin_trap();
  }
  dml_index_close(index);
  return 0;
}
