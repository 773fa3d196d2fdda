#!/usr/bin/env bash
# Checks full-size resnet18 and resnet50 (224 px, torchvision's own models)
# against PyTorch: outputs, every parameter gradient and the batch-norm
# statistics after a training-mode forward. Needs Debian's python3-torch and
# python3-torchvision; writes about 600 MB (f64) of fixtures to $1 (default a
# temporary directory) and removes a temporary one afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-$(mktemp -d)}
[ -n "${1:-}" ] || trap 'rm -rf "$dir"' EXIT
scripts/setup.sh test_resnet_parity
/usr/bin/python3 tests/golden/make_resnet_golden.py --full "$dir"
DML_RESNET_FULL_FIXTURES="$dir" build/tests/test_resnet_parity --gtest_filter='*FullSize*'
