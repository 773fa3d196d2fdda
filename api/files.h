#pragma once
// Files a caller names: one that is missing, not a regular file or not
// readable is DML_ERROR_IO, told apart here before a reader (which reports
// every failure alike) sees it, so a malformed file alone is
// DML_ERROR_FORMAT.
#include <string>

namespace dml::api {

// `what` names the file in the message ("model file", "paths[3]").
void require_readable_file(const std::string& path, const std::string& what);

}  // namespace dml::api
