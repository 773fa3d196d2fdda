#!/usr/bin/env bash
# Cross-compiles the CPU libraries for aarch64 Linux (no CUDA, no OpenBLAS:
# the portable kernels alone) with cmake/toolchain-aarch64.cmake into
# build-aarch64/, then the GEMM self-check (tests/kernels/gemm_selfcheck.cpp,
# no gtest) against them, and runs it under qemu-aarch64 when that is
# installed. Usage: scripts/cross_aarch64.sh [more CMake targets to build].
# DML_CROSS_BUILD_DIR sets the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${DML_CROSS_BUILD_DIR:-build-aarch64}
sysroot=/usr/aarch64-linux-gnu
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
# No zlib or stb library is installed for aarch64. The CPU libraries link
# neither; the host's satisfy the configure step of the libraries above them
# (dml_data), which are not built here.
host_lib=/usr/lib/$(gcc -print-multiarch)
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake \
  -DCMAKE_BUILD_TYPE=Release -DDML_CUDA=OFF -DDML_OPENBLAS=OFF -DDML_BUILD_TESTS=OFF \
  -DDML_BUILD_BENCH=OFF -DZLIB_LIBRARY="$host_lib/libz.so" -DSTB_LIBRARY="$host_lib/libstb.so" \
  "${launcher[@]}" >/dev/null
cmake --build "$build_dir" --target dml_base dml_kernels_cpu dml_engine dml_layers "$@"

# The self-check is a plain program on two static libraries: built here
# rather than in tests/, whose CMake needs gtest (host-only).
aarch64-linux-gnu-g++ -std=gnu++20 -O2 -fopenmp -Wall -Wextra -Werror -I. \
  tests/kernels/gemm_selfcheck.cpp "$build_dir/kernels/libdml_kernels_cpu.a" \
  "$build_dir/base/libdml_base.a" -o "$build_dir/gemm_selfcheck"
if command -v qemu-aarch64 >/dev/null; then
  qemu-aarch64 -L "$sysroot" "$build_dir/gemm_selfcheck"
else
  echo "qemu-aarch64 not found: $build_dir/gemm_selfcheck built, not run"
fi
