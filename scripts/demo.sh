#!/usr/bin/env bash
# The main job on the bundled default: the finDML experiment on Fashion-MNIST
# with a "tone" attribute on 5% of the training images (Debian's
# dataset-fashion-mnist): a small ResNet trained without and with PARADE on
# classes 0-4, audited on held-out classes 5-9 over 3 seeds; prints Recall@1
# and the subgroup gaps side by side with 95% intervals and the paired
# difference (about 3 minutes on 2 cores). Extra arguments go to
# `dml experiment findml` (see `build/tools/dml experiment findml --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dml
exec build/tools/dml experiment findml --seeds 3 --output runs/findml "$@"
