// libFuzzer target: the training config parser. The input's first line is
// a JSON config file, each further line a --set override ("key=value");
// resolve_config and typed_config must accept it or throw dml::Error (what
// the tools print as one line). Anything else (another exception type, a
// crash) is a bug.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "dml/train/config.h"
#include "fuzz/memory_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const size_t end = text.find('\n');
  std::vector<std::string> overrides;
  for (size_t begin = end; begin != std::string::npos && begin < text.size();) {
    const size_t next = text.find('\n', begin + 1);
    overrides.push_back(
        text.substr(begin + 1, next == std::string::npos ? next : next - begin - 1));
    begin = next;
  }
  const std::string first = text.substr(0, end);
  const dml::fuzz::MemoryFile file(reinterpret_cast<const uint8_t*>(first.data()), first.size());
  try {
    const dml::Json user = dml::train::read_config_file(file.path());
    const dml::Json resolved = dml::train::resolve_config(user, overrides, "fuzz");
    dml::train::typed_config(resolved);
  } catch (const dml::Error&) {
  }
  return 0;
}
