#!/usr/bin/env bash
# Installs the Debian packages the build needs (when missing), configures
# build/ and builds the given targets (all when none). Shared by the README's
# two commands: scripts/demo.sh and scripts/test.sh. DML_EXTRA_PACKAGES names
# packages one command needs beyond the build's (the tests' chromium), so the
# other does not install them.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ libopenblas-openmp-dev zlib1g-dev libgtest-dev libbenchmark-dev
          nlohmann-json3-dev libcli11-dev libstb-dev pkg-config dataset-fashion-mnist
          libopenmpi-dev openmpi-bin)
# The benchmarks' peers (bench/conv_onednn_bench.cpp's oneDNN): never needed by
# the engine or its tests, so installed like the extras below.
bench_packages=(libdnnl-dev)
read -r -a extra <<<"${DML_EXTRA_PACKAGES:-}"
extra+=("${bench_packages[@]}")

# The Debian packages of the list that are not installed yet.
missing_of() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

install() {
  local sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "setup: installing $*"
  "${sudo_cmd[@]}" apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "$@" >/dev/null
}

mapfile -t missing < <(missing_of "${packages[@]}")
if [ ${#missing[@]} -gt 0 ]; then install "${missing[@]}"; fi
# The extras only widen what runs (the tests and benchmarks that need them
# skip without):
# a failed install is a warning, not the end of the command.
mapfile -t missing < <(missing_of "${extra[@]}")
if [ ${#missing[@]} -gt 0 ]; then
  install "${missing[@]}" ||
    echo "setup: warning: could not install ${missing[*]}; the tests that need them will skip"
fi

build_dir=${DML_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release ${DML_CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir" -j "$(nproc)" ${1:+--target "$@"}
