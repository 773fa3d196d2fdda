#!/usr/bin/env bash
# The main job on the bundled default: trains a small network on Fashion-MNIST
# (Debian's dataset-fashion-mnist) and prints the loss falling. Extra
# arguments go to `dml train` (see `build/tools/dml train --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dml
exec build/tools/dml train "$@"
