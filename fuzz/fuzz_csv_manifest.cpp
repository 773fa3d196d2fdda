// libFuzzer target: read_csv_manifest on arbitrary text, with and without a
// split to select (the files it names are not checked: none exist). A
// hostile manifest must end in dml::Error; anything else is a bug.
#include <cstddef>
#include <cstdint>

#include "base/error.h"
#include "dml/data/csv_manifest.h"
#include "fuzz/memory_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const dml::fuzz::MemoryFile file(data, size);
  for (const char* split : {"", "train"}) {
    try {
      const dml::data::SampleSet set =
          dml::data::read_csv_manifest(file.path(), {.check_files = false, .split = split});
      for (const auto& s : set.samples)
        if (s.attributes.size() != set.attribute_names.size()) __builtin_trap();
    } catch (const dml::Error&) {
    }
  }
  return 0;
}
