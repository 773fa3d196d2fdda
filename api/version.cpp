// dml_version() and dml_api_version(). The version is the header's own
// (DML_VERSION_*), so the library reports the API it implements;
// dml_commit.h (cmake/WriteCommit.cmake, rewritten at every build when the
// commit changed) names the commit it was built from.
#include "api/dml.h"
#include "dml_commit.h"

#define DML_STRINGIFY_(x) #x
#define DML_STRINGIFY(x) DML_STRINGIFY_(x)

extern "C" {

const char* dml_version(void) {
  return DML_STRINGIFY(DML_VERSION_MAJOR) "." DML_STRINGIFY(DML_VERSION_MINOR) "." DML_STRINGIFY(
      DML_VERSION_PATCH) " (commit " DML_COMMIT ")";
}

int dml_api_version(void) {
  return DML_API_VERSION;
}

}  // extern "C"
