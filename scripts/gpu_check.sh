#!/usr/bin/env bash
# One prepared run on a GPU machine: build, the whole test suite (every CUDA op
# against the CPU backend), compute-sanitizer over the CUDA tests, and the
# ResNet-50 DML training step and exact kNN (1M x 128) against PyTorch on the
# same GPU.
#
#   scripts/gpu_check.sh [stage...]     stages: build test sanitize bench (default: all);
#                                       bench = bench-train (the training step) + bench-knn
#
# Logs go to $OUT (default /tmp/gpu-check); the last lines printed are a short
# summary. A lent machine runs one command for at most 10 minutes: run the
# stages as separate calls (`build test`, then `bench-train`, `bench-knn`, then `sanitize`; the
# build stays between calls while the machine is warm). DML_SANITIZE_TOOLS
# picks compute-sanitizer's tools (default: memcheck racecheck initcheck). Where the machine lacks the Debian build dependencies, carry
# .device/ (scripts/device_bundle.sh) and the script unpacks it into / first,
# skipping files that exist. cuDNN is taken from CUDNN_ROOT, /usr, or the
# nvidia/cudnn folder of python3's PyTorch. Every stage has a time limit so
# one hang cannot eat the machine's lease.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/gpu-check}
mkdir -p "$out"
stages=${*:-build test sanitize bench}
summary=()
note() { summary+=("$1"); echo "== $1"; }
has_stage() { [[ " $stages " == *" $1 "* ]]; }

if [ -f .device/bundle.tar.xz ]; then
  tar -C / --skip-old-files -xJf .device/bundle.tar.xz && note "deps: unpacked .device/bundle.tar.xz"
fi
if [ -z "${CUDNN_ROOT:-}" ] && ! ls /usr/include/cudnn_version*.h /usr/include/*/cudnn_version*.h \
    >/dev/null 2>&1; then
  CUDNN_ROOT=$(python3 -c 'import nvidia.cudnn as m; print(list(m.__path__)[0])' 2>/dev/null)
fi
export CUDNN_ROOT=${CUDNN_ROOT:-}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$out/gpu.txt" 2>&1
note "gpu: $(head -1 "$out/gpu.txt"); cudnn root: ${CUDNN_ROOT:-system}"

if has_stage build; then
  start=$SECONDS
  { cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DDML_BUILD_BENCH=ON \
      ${CUDNN_ROOT:+-DCUDNN_ROOT="$CUDNN_ROOT"} &&
    timeout 900 cmake --build build -j "$(nproc)"; } > "$out/build.log" 2>&1
  rc=$?
  note "build: rc $rc in $((SECONDS - start)) s, $(grep -c 'warning' "$out/build.log") warning lines"
  [ $rc -eq 0 ] || { tail -30 "$out/build.log"; exit 1; }
fi

if has_stage test; then
  start=$SECONDS
  timeout 900 ctest --test-dir build -j 8 --output-on-failure > "$out/ctest.log" 2>&1
  note "ctest: rc $? in $((SECONDS - start)) s: $(grep -E 'tests passed|tests failed' "$out/ctest.log")"
  # The CUDA tests' own counts: a skip here means no device was seen.
  for t in build/tests/test_cuda*; do
    [ -x "$t" ] || continue
    log="$out/$(basename "$t").log"
    timeout 300 "$t" > "$log" 2>&1
    note "$(basename "$t"): rc $? $(grep -oE '^\[  (PASSED|SKIPPED|FAILED) +\] [0-9]+ tests?' "$log" \
      | sed -E 's/^\[ +([A-Z]+) +\] ([0-9]+).*/\2 \1/' | tr '\n' ' ')"
  done
fi

if has_stage sanitize; then
  for tool in ${DML_SANITIZE_TOOLS:-memcheck racecheck initcheck}; do
    for t in build/tests/test_cuda*; do
      [ -x "$t" ] || continue
      log="$out/sanitize-$tool-$(basename "$t").log"
      timeout 300 compute-sanitizer --tool "$tool" --error-exitcode 99 "$t" --gtest_brief=1 \
        > "$log" 2>&1
      note "compute-sanitizer $tool $(basename "$t"): rc $? $(grep -m1 -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$log")"
    done
  done
fi

if has_stage bench || has_stage bench-train; then
  timeout 560 python3 -u bench/compare_train_step.py --device cuda --build build --steps 20 \
    --warmup 5 > "$out/bench-train.txt" 2>&1
  note "bench train step: rc $?"
  cat "$out/bench-train.txt"
fi

if has_stage bench || has_stage bench-knn; then
  timeout 560 python3 -u bench/compare_knn_torch.py --build build --rows 1000000 --reps 3 \
    > "$out/bench-knn.txt" 2>&1
  note "bench knn: rc $?"
  cat "$out/bench-knn.txt"
fi

echo "---- summary ----"
printf '%s\n' "${summary[@]}"
