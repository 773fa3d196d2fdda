// libFuzzer target: read_idx on arbitrary bytes, plain or gzip (zlib reads
// both). A hostile file must end in dml::Error; anything else is a bug.
#include <cstddef>
#include <cstdint>

#include "base/error.h"
#include "dml/data/idx.h"
#include "fuzz/memory_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const dml::fuzz::MemoryFile file(data, size);
  try {
    const dml::data::IdxArray idx = dml::data::read_idx(file.path());
    if (idx.values.dim() != 1 && idx.values.dim() != 3) __builtin_trap();
  } catch (const dml::Error&) {
  }
  return 0;
}
