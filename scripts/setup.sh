#!/usr/bin/env bash
# Installs the Debian packages the build needs (when missing), configures
# build/ and builds the given targets (all when none). Shared by the README's
# two commands: scripts/demo.sh and scripts/test.sh. DML_EXTRA_PACKAGES names
# packages one command needs beyond the build's (the tests' chromium), so the
# other does not install them.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ libopenblas-openmp-dev zlib1g-dev libgtest-dev libbenchmark-dev
          nlohmann-json3-dev libcli11-dev libstb-dev dataset-fashion-mnist)
read -r -a extra <<<"${DML_EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

build_dir=${DML_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release ${DML_CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir" -j "$(nproc)" ${1:+--target "$@"}
