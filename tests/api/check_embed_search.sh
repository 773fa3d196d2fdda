# shellcheck shell=bash
# check_embed_search NAME OUTPUT IMAGE...: examples' embed_search run on
# IMAGE... printed, as OUTPUT, two lines (one per query, the first two
# images), each query its own nearest neighbour at distance ~0 with three
# neighbours. Prints what is wrong and returns 1 otherwise. Sourced by
# tests/api/test_install.sh and scripts/cross_aarch64.sh.
check_embed_search() {
  local name=$1 output=$2
  shift 2
  local images=("$@") q
  if [ "$(wc -l <<<"$output")" -ne 2 ]; then
    echo "$name printed, not two lines:"$'\n'"$output" >&2
    return 1
  fi
  for q in 0 1; do
    awk -v q="$q" -v path="${images[q]}:" 'NR == q + 1 {
        exit !($1 == path && $2 == q && $3 + 0 < 1e-4 && $3 + 0 > -1e-4 && NF == 7) }' \
      <<<"$output" || {
      echo "$name: query $q is not its own nearest neighbour:"$'\n'"$output" >&2
      return 1
    }
  done
}
