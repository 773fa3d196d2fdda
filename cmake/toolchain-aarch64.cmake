# Cross-compiling for aarch64 Linux with Debian's g++-aarch64-linux-gnu
# (scripts/cross_aarch64.sh, the light build). Libraries come from the
# target's root only; headers and CMake packages may come from the host too,
# for the header-only ones the light build needs (nlohmann-json, stb's
# decoder). ctest runs programs under qemu-aarch64 where it is present.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
find_program(_dml_qemu_aarch64 qemu-aarch64)
if(_dml_qemu_aarch64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${_dml_qemu_aarch64} -L /usr/aarch64-linux-gnu)
endif()
