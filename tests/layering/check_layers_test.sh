#!/usr/bin/env bash
# The include-rule check must fail on each kind of forbidden include: a tree
# with one planted back reference of each kind, and a clean tree that passes.
set -euo pipefail
checker=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

plant() {  # plant FILE INCLUDE: a one-line source file including INCLUDE
  mkdir -p "$tmp/$(dirname "$1")"
  printf '#pragma once\n#include "%s"\n' "$2" >"$tmp/$1"
}

# Allowed includes only: the check passes.
plant base/a.h base/dtype.h
plant kernels/cpu/a.h kernels/storage_math.h
plant kernels/cuda/a.h kernels/cuda_runtime/stream.h
plant engine/a.h kernels/cpu/gemm.h
plant engine/ops/a.cpp engine/ops/common.h
plant dml/a.h engine/tensor.h
plant fairness/a.h dml/losses/loss.h
plant tools/a.cpp fairness/audit.h
plant tests/a.cpp kernels/cuda/blas.h
"$checker" "$tmp" >/dev/null || { echo "FAIL: a clean tree was refused"; exit 1; }

# Each forbidden include on its own must make the check fail, naming the file.
forbidden=(
  "base/b.h engine/tensor.h"
  "kernels/b.h kernels/cpu/gemm.h"
  "kernels/cpu/b.cpp engine/dtype.h"
  "kernels/cpu/c.cpp kernels/cuda/blas.h"
  "kernels/cuda_runtime/b.cpp kernels/cuda/grid.cuh"
  "kernels/cuda/b.h engine/allocator.h"
  "engine/b.h layers/module.h"
  "layers/b.h kernels/cpu/gemm.h"
  "dml/eval/b.cpp kernels/cuda/knn_select.h"
  "dml/losses/b.cpp engine/ops/common.h"
  "dml/b.h fairness/parade.h"
  "fairness/b.cpp tools/commands.h"
  "fairness/c.cpp kernels/cpu/parallel.h"
)
for case in "${forbidden[@]}"; do
  read -r file include <<<"$case"
  plant "$file" "$include"
  if out=$("$checker" "$tmp"); then
    echo "FAIL: $file including $include passed the check"
    exit 1
  fi
  grep -q "^$file:2: includes $include" <<<"$out" || { echo "FAIL: no line for $file: $out"; exit 1; }
  rm "$tmp/$file"
done
echo "check_layers refuses all ${#forbidden[@]} planted back references"
