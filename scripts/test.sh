#!/usr/bin/env bash
# Builds everything and runs the whole test suite. GPU tests skip cleanly
# where no CUDA device is present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ctest --test-dir "${DML_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
