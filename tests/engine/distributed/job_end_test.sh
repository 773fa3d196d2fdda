#!/usr/bin/env bash
# Runs job_end_program under mpirun and checks how the job ended: non-zero,
# within seconds (the program's timeout is 60 s), and for a killed rank with
# rank 0's one line naming it. mpirun is told not to end the job itself when
# a rank dies (orte_abort_on_non_zero_status 0, as srun's default), so the
# killed case passes only if rank 0 notices on its own.
#
# Usage: job_end_test.sh killed|aborted PROGRAM MPIRUN [MPIRUN ARGS...]
set -uo pipefail
how=$1 program=$2
shift 2
start=$(date +%s%N)
output=$("$@" --mca orte_abort_on_non_zero_status 0 "$program" "$how" 2>&1)
rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
echo "$output"
echo "exit $rc after ${elapsed_ms} ms"
fail() {
  echo "FAIL: $*"
  exit 1
}
((rc != 0)) || fail "the job exited 0"
((elapsed_ms < 10000)) || fail "the job took ${elapsed_ms} ms to end"
case $how in
  killed)
    grep -Eq 'rank 0: rank 1 \(pid [0-9]+ on host [^)]+\) is gone during all_reduce_sum' <<<"$output" ||
      fail "rank 0 did not name the lost rank"
    waited=$(sed -nE 's/^rank 0: after ([0-9.]+) s$/\1/p' <<<"$output")
    [[ -n $waited ]] && awk -v w="$waited" 'BEGIN { exit !(w < 3) }' ||
      fail "rank 0 named it after ${waited:-?} s, not within 3 s"
    ;;
  aborted)
    grep -q 'rank 1: failing on purpose' <<<"$output" || fail "rank 1 did not run"
    ! grep -q 'still running' <<<"$output" || fail "rank 0 outlived the abort"
    ;;
  *) fail "unknown case '$how'" ;;
esac
echo "PASS"
