#!/bin/sh
# expect_check_failure.sh LINE_REGEX CHECK_COMMAND...: runs the browser check
# on a page made to fail it and passes only when the check exits 1 with a
# line matching LINE_REGEX (grep -E), so a check that stopped looking, or one
# that fails for another reason, is caught. Passes the check's 77 (skip) on.
line=$1
shift
output=$("$@" 2>&1)
status=$?
printf '%s\n' "$output"
[ "$status" -eq 77 ] && exit 77
if [ "$status" -ne 1 ]; then
  echo "expect_check_failure: the check exited $status, expected 1 (checks failed)"
  exit 1
fi
if ! printf '%s\n' "$output" | grep -Eq "$line"; then
  echo "expect_check_failure: no line matching '$line' in the check's output"
  exit 1
fi
echo "expect_check_failure: failed as it should"
