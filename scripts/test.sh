#!/usr/bin/env bash
# Builds everything and runs the whole test suite. GPU tests skip cleanly
# where no CUDA device is present. Chromium, for the HTML reports' checks in
# a real browser (tests/fairness/check_report_in_browser.py), is installed
# for the tests only; the demo does not need it.
set -euo pipefail
cd "$(dirname "$0")/.."
DML_EXTRA_PACKAGES="chromium ${DML_EXTRA_PACKAGES:-}" scripts/setup.sh
ctest --test-dir "${DML_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
