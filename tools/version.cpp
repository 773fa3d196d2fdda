// `dml --version`. DML_VERSION comes from CMake (the project's version),
// DML_COMMIT from dml_commit.h, which every build brings up to date
// (cmake/WriteCommit.cmake).
#include "dml_commit.h"

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
