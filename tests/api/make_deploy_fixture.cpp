// Writes what tests/api/test_install.sh runs the installed examples on
// (tests/api/deploy_fixture.h):
//
//   make_deploy_fixture DIR  ->  DIR/model.safetensors, DIR/{a,b,c}.png
#include <cstdio>
#include <exception>
#include <string>

#include "tests/api/deploy_fixture.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  try {
    const std::string dir = argv[1];
    dml::test::write_deploy_model(dir + "/model.safetensors");
    dml::test::write_deploy_image(dir + "/a.png", 40, 48, 0);
    dml::test::write_deploy_image(dir + "/b.png", 52, 40, 1);
    dml::test::write_deploy_image(dir + "/c.png", 44, 44, 2);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_deploy_fixture: %s\n", e.what());
    return 1;
  }
  return 0;
}
