#!/usr/bin/env bash
# Packs the Debian files the build and tests need into .device/bundle.tar.xz
# (gitignored), for a GPU machine that has CUDA, cuDNN and a compiler but no
# package registry: scripts/gpu_check.sh unpacks it there into / without
# overwriting anything the machine already has. Carry `.device` with the
# repository to that machine. Run here, where scripts/setup.sh installed them.
set -euo pipefail
cd "$(dirname "$0")/.."

# Headers, CMake package files and shared libraries (OpenBLAS's 58 MB static
# archive and the documentation are left out), and the Fashion-MNIST files.
packages=(libopenblas0-openmp libopenblas-openmp-dev libopenblas-dev zlib1g-dev libgtest-dev
          libbenchmark-dev libbenchmark1debian nlohmann-json3-dev libcli11-dev libstb-dev libstb0
          dataset-fashion-mnist)
mkdir -p .device
list=$(mktemp)
trap 'rm -f "$list"' EXIT
for p in "${packages[@]}"; do
  dpkg -L "$p" 2>/dev/null || { echo "device_bundle: $p is not installed (run scripts/setup.sh)" >&2; exit 1; }
done | grep -v -e '^/usr/share/doc' -e '^/usr/share/man' -e '^/usr/share/lintian' -e '\.a$' \
  | while read -r f; do [ -f "$f" ] || [ -L "$f" ] && echo "${f#/}"; done | sort -u > "$list"
# The static GoogleTest and Benchmark archives are what their CMake files name.
for p in libgtest-dev libbenchmark-dev; do
  dpkg -L "$p" | grep '\.a$' | sed 's|^/||'
done >> "$list"
tar -C / -cJf .device/bundle.tar.xz -T "$list"
echo "device_bundle: $(wc -l < "$list") files, $(du -h .device/bundle.tar.xz | cut -f1) in .device/bundle.tar.xz"
