#!/usr/bin/env bash
# print_embeddings (what scripts/cross_aarch64.sh compares across
# architectures) on make_deploy_fixture's model and images: one line per
# image in the order given, its path then the 16 values, equal within 1e-6
# to what python/dml_deploy.py's Model.embed_files gives through the same
# libdml; a missing model exits 1 with dml_model_open's message.
#
#   test_print_embeddings.sh SOURCE_DIR FIXTURE_PROGRAM PRINT_PROGRAM LIBDML
set -euo pipefail
source_dir=$1 fixture=$2 print=$3 library=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() {
  echo "test_print_embeddings: $*" >&2
  exit 1
}

# The comparison runs through python/dml_deploy.py, which needs numpy; ctest
# counts exit 77 as skipped.
/usr/bin/python3 -c 'import numpy' 2>/dev/null || {
  echo "skipped: numpy is not installed (apt-get install python3-numpy)"
  exit 77
}
"$fixture" "$work"
images=("$work/c.png" "$work/a.png" "$work/b.png")
"$print" "$work/model.safetensors" "${images[@]}" >"$work/printed" ||
  fail "print_embeddings failed"
DML_LIBRARY=$library /usr/bin/python3 - "$source_dir/python" "$work/printed" \
  "$work/model.safetensors" "${images[@]}" <<'PY' || fail "see above"
import sys
sys.path.insert(0, sys.argv[1])
import dml_deploy
import numpy as np

printed, model, images = sys.argv[2], sys.argv[3], sys.argv[4:]
lines = [line.split() for line in open(printed)]
assert [line[0] for line in lines] == images, f"paths {[line[0] for line in lines]}"
values = np.array([[float(v) for v in line[1:]] for line in lines])
with dml_deploy.Model(model) as m:
    expected = m.embed_files(images)
assert values.shape == expected.shape == (3, 16), f"shapes {values.shape} {expected.shape}"
worst = float(np.abs(values - expected).max())
assert worst <= 1e-6, f"printed values differ from embed_files by {worst}"
PY

if message=$("$print" "$work/missing.safetensors" "${images[@]}" 2>&1); then
  fail "a missing model was accepted"
fi
grep -q "dml_model_open: DML_ERROR_IO: .*does not exist" <<<"$message" ||
  fail "a missing model's message: $message"
echo "test_print_embeddings: ok"
