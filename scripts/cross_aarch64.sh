#!/usr/bin/env bash
# The deployment library on aarch64 Linux, checked under qemu-aarch64.
#
# 1. Cross-compiles the light build (-DDML_LIGHT=ON: no CUDA, BLAS or zlib)
#    with cmake/toolchain-aarch64.cmake into build-aarch64/: libdml.so and the
#    test programs that need no gtest (-DDML_TESTS_GTEST=OFF: no gtest library
#    exists for aarch64 here), installs libdml into build-aarch64/prefix and
#    builds examples/c/embed_search.c against the installed package.
# 2. Builds the same light configuration for this machine into build-light/
#    and writes the deploy fixture (tests/api/make_deploy_fixture: a model and
#    three images) with it.
# 3. Under qemu-aarch64: the GEMM self-check; embed_search on the fixture,
#    which must exit 0 and find each query image as its own nearest
#    neighbour; print_embeddings, whose values must agree with this machine's
#    build within 1e-4 (both are printed).
#
# Run by hand (not in CI): scripts/cross_aarch64.sh. DML_CROSS_BUILD_DIR and
# DML_CROSS_HOST_BUILD_DIR set the two build directories.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tests/api/check_embed_search.sh
source tests/api/check_embed_search.sh

fail() {
  echo "cross_aarch64: $*" >&2
  exit 1
}

for tool in aarch64-linux-gnu-gcc aarch64-linux-gnu-g++ qemu-aarch64; do
  command -v "$tool" >/dev/null ||
    fail "$tool not found: install the cross compiler and qemu" \
      "(Debian: apt-get install g++-aarch64-linux-gnu qemu-user)"
done

build_dir=${DML_CROSS_BUILD_DIR:-build-aarch64}
host_dir=${DML_CROSS_HOST_BUILD_DIR:-build-light}
sysroot=/usr/aarch64-linux-gnu
toolchain=$PWD/cmake/toolchain-aarch64.cmake
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
light=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DDML_LIGHT=ON "${launcher[@]}")

echo "== aarch64: libdml, gemm_selfcheck, print_embeddings ($build_dir)"
cmake -S . -B "$build_dir" "${light[@]}" -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
  -DDML_BUILD_TESTS=ON -DDML_TESTS_GTEST=OFF >/dev/null
cmake --build "$build_dir" --target libdml gemm_selfcheck print_embeddings
prefix=$PWD/$build_dir/prefix
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
cmake -S examples -B "$build_dir/examples" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$build_dir/examples" --target embed_search_c >/dev/null
aarch64-linux-gnu-readelf -h "$prefix/lib/libdml.so" | grep -q 'Machine: *AArch64' ||
  fail "$prefix/lib/libdml.so is not an aarch64 library"

echo "== x86-64: the same light build, and the fixture ($host_dir)"
cmake -S . -B "$host_dir" "${light[@]}" >/dev/null
cmake --build "$host_dir" --target libdml make_deploy_fixture print_embeddings
fixture=$build_dir/fixture
mkdir -p "$fixture"
"$host_dir/tests/make_deploy_fixture" "$fixture"
model=$fixture/model.safetensors
images=("$fixture/a.png" "$fixture/b.png" "$fixture/c.png")

run_aarch64() { qemu-aarch64 -L "$sysroot" "$@"; }

echo "== qemu-aarch64: gemm_selfcheck"
run_aarch64 "$build_dir/tests/gemm_selfcheck" || fail "gemm_selfcheck failed under qemu"

echo "== qemu-aarch64: embed_search_c on the fixture"
output=$(run_aarch64 "$build_dir/examples/embed_search_c" "$model" "${images[@]}") ||
  fail "embed_search_c failed under qemu:"$'\n'"$output"
echo "$output"
check_embed_search "embed_search_c (aarch64)" "$output" "${images[@]}" ||
  fail "embed_search_c: see above"

echo "== embeddings: aarch64 (qemu) against x86-64, within 1e-4"
arm=$(run_aarch64 "$build_dir/tests/print_embeddings" "$model" "${images[@]}") ||
  fail "print_embeddings failed under qemu"
x86=$("$host_dir/tests/print_embeddings" "$model" "${images[@]}") ||
  fail "print_embeddings failed on this machine"
echo "aarch64:"$'\n'"$arm"$'\n'"x86-64:"$'\n'"$x86"
# Line by line: the same path and count of values, each within 1e-4.
paste -d '\n' <(echo "$arm") <(echo "$x86") | awk '
  NR % 2 == 1 { n = split($0, a, " "); next }
  {
    m = split($0, b, " ")
    if (n != m || a[1] != b[1]) { print "different shapes for " a[1]; bad = 1; next }
    for (i = 2; i <= n; ++i) {
      d = a[i] - b[i]; if (d < 0) d = -d
      if (d > worst) worst = d
    }
  }
  END {
    printf "largest difference: %.3g over %d images\n", worst, NR / 2
    exit bad || worst > 1e-4 || NR != 6
  }' || fail "the aarch64 embeddings differ from the x86-64 ones by more than 1e-4"
echo "cross_aarch64: ok (${SECONDS}s)"
