// `dml --version`. DML_VERSION and DML_COMMIT come from CMake
// (tools/CMakeLists.txt): the project's version and the commit checked out
// when the build was configured.
#include <string>

#include "engine/build_info.h"
#include "tools/commands.h"

namespace dml::tools {

std::string version_text() {
  const BuildInfo info = build_info();
  std::string text = std::string("dml ") + DML_VERSION + " (commit " + DML_COMMIT + ")\n";
  text += "cuda: ";
  if (!info.cuda_built)
    text += "off (built without CUDA)";
  else
    text += "on, " + std::to_string(info.cuda_devices) + " usable device(s)";
  text += "\ncpu kernels: " + info.cpu_paths + "; selected here: " + info.cpu_selected;
  return text;
}

}  // namespace dml::tools
