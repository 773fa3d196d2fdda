#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang with ASan + UBSan) in build-fuzz/
# and runs each for N seconds (default 60) from its committed seed corpus
# (fuzz/corpus/<name>/). New inputs go to build-fuzz/corpus/<name>/; a crash
# is written there as crash-<hash> and fails the script.
# Usage: scripts/fuzz.sh [seconds] [target ...]
#   targets: safetensors idx csv_manifest attributes config model_file index_file
#   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors idx csv_manifest attributes config model_file index_file)

build_dir=${DML_FUZZ_BUILD_DIR:-build-fuzz}
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER="${DML_FUZZ_CXX:-clang++}" -DDML_FUZZ=ON -DDML_CUDA=OFF \
  -DDML_BUILD_TESTS=OFF -DDML_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

export OMP_NUM_THREADS=1
root=$(pwd)
status=0
for t in "${targets[@]}"; do
  work="$root/$build_dir/corpus/$t"
  log="$root/$build_dir/fuzz_$t.log"
  mkdir -p "$work"
  echo "== fuzz_$t: $seconds s (log: $log)"
  # -rss_limit_mb: a reader must not allocate far beyond its input's size.
  if "$root/$build_dir/fuzz/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 \
      -rss_limit_mb=2048 -timeout=10 -max_len=16384 -artifact_prefix="$work/" \
      "$work" "$root/fuzz/corpus/$t" >"$log" 2>&1; then
    grep -E "^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)" "$log"
  else
    grep -E "ERROR|SUMMARY|Test unit written|==[0-9]+==" "$log" | head -20
    echo "fuzz_$t: FAILED; the input is in $work (crash-*, oom-*, timeout-*, leak-*)"
    status=1
  fi
done
exit $status
