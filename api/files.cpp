#include "api/files.h"

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "api/status.h"

namespace dml::api {

void require_readable_file(const std::string& path, const std::string& what) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  DML_API_CHECK(std::filesystem::exists(status), DML_ERROR_IO, what, " '", path,
                "' does not exist; check the path");
  DML_API_CHECK(std::filesystem::is_regular_file(status), DML_ERROR_IO, what, " '", path,
                "' is not a regular file (a directory?); pass the file itself");
  std::FILE* file = std::fopen(path.c_str(), "rb");
  DML_API_CHECK(file != nullptr, DML_ERROR_IO, what, " '", path,
                "' cannot be opened: ", std::error_code(errno, std::generic_category()).message(),
                "; check its permissions");
  std::fclose(file);
}

}  // namespace dml::api
