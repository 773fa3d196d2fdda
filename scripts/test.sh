#!/usr/bin/env bash
# Builds everything and runs the whole test suite. GPU tests skip cleanly
# where no CUDA device is present. Chromium, for the HTML reports' checks in
# a real browser (tests/fairness/check_report_in_browser.py), is installed
# for the tests only, and so is python3-numpy, for the Python module's and
# the deployment benchmarks' tests; the demo needs neither. Then the light build
# (-DDML_LIGHT=ON: libdml alone, no CUDA, BLAS or zlib) is built in
# build-light and its own tests run: the kernels', the C API's and the
# install test, which checks that library's dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
DML_EXTRA_PACKAGES="chromium python3-numpy ${DML_EXTRA_PACKAGES:-}" scripts/setup.sh
ctest --test-dir "${DML_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"

light_dir=${DML_LIGHT_BUILD_DIR:-build-light}
cmake -S . -B "$light_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDML_LIGHT=ON >/dev/null
cmake --build "$light_dir" -j "$(nproc)"
ctest --test-dir "$light_dir" --output-on-failure -j "$(nproc)"
