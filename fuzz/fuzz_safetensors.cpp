// libFuzzer target: read_safetensors on arbitrary bytes. A hostile file must
// end in dml::Error (caught here); anything else (a crash, a sanitizer
// report, another exception, an allocation beyond -rss_limit_mb) is a bug.
#include <cstddef>
#include <cstdint>

#include "base/error.h"
#include "engine/safetensors.h"
#include "fuzz/memory_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const dml::fuzz::MemoryFile file(data, size);
  try {
    const dml::SafetensorsFile read = dml::read_safetensors(file.path());
    // What was accepted holds storage for every byte it claims.
    for (const auto& [name, t] : read.tensors)
      if (t.nbytes() > 0 && t.raw_data() == nullptr) __builtin_trap();
  } catch (const dml::Error&) {
  }
  return 0;
}
