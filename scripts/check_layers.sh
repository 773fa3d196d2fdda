#!/usr/bin/env bash
# The include rule: each folder includes only itself and the folders below it
# (base <- kernels <- engine <- layers <- dml <- fairness <- tools, api beside
# tools). Above the engine, nothing includes kernels/ or the op writers'
# private header engine/ops/common.h: DML compute reaches the kernels through
# engine ops. Inside kernels/, the CUDA runtime knows no kernel, and the
# shared headers at kernels/ itself know no backend. tests/, bench/ and fuzz/
# may include anything.
#
# Usage: scripts/check_layers.sh [ROOT]   (default: the repository)
# Prints one line per forbidden include and exits 1 when there is any.
set -euo pipefail
root=${1:-"$(dirname "$0")/.."}
cd "$root"

# Folder -> extended regex of the include paths it may use. The longest
# folder prefix of a file decides its rule.
declare -A allowed=(
  [base]='^base/'
  [kernels]='^(base/|kernels/[^/]+$)'
  [kernels/cpu]='^(base/|kernels/[^/]+$|kernels/cpu/)'
  [kernels/cuda_runtime]='^(base/|kernels/cuda_runtime/)'
  [kernels/cuda]='^(base/|kernels/[^/]+$|kernels/cuda/|kernels/cuda_runtime/)'
  [engine]='^(base/|kernels/|engine/)'
  [layers]='^(base/|engine/|layers/)'
  [dml]='^(base/|engine/|layers/|dml/)'
  [fairness]='^(base/|engine/|layers/|dml/|fairness/)'
  [api]='^(base/|engine/|layers/|dml/|fairness/|api/)'
  [tools]='^(base/|engine/|layers/|dml/|fairness/|tools/)'
)
# Headers private to one folder, with the folder allowed to include them.
declare -A private=(
  [engine/ops/common.h]='engine'
)
project='^(base|kernels|engine|layers|dml|fairness|api|tools|tests|bench|fuzz)/'

readable() {  # a rule's regex as a list: ^(base/|kernels/[^/]+$) -> base/, kernels/*.h
  local text=${1#^}
  text=${text#(}
  text=${text%)}
  text=${text//'[^/]+$'/*.h}
  echo "${text//|/, }"
}

rule_of() {  # the longest folder prefix of $1 that has a rule
  local dir=${1%/*} best=
  for folder in "${!allowed[@]}"; do
    if [[ $dir == "$folder" || $dir == "$folder"/* ]] && ((${#folder} > ${#best})); then
      best=$folder
    fi
  done
  echo "$best"
}

violations=0
while IFS= read -r file; do
  rule=$(rule_of "$file")
  [[ -n $rule ]] || continue
  while IFS=: read -r line target; do
    [[ $target =~ $project ]] || continue  # system and third-party headers
    owner=${private[$target]:-}
    if [[ -n $owner && $file != "$owner"/* ]]; then
      echo "$file:$line: includes $target, private to $owner/"
      violations=$((violations + 1))
    elif ! [[ $target =~ ${allowed[$rule]} ]]; then
      echo "$file:$line: includes $target; $rule/ may include only $(readable "${allowed[$rule]}")"
      violations=$((violations + 1))
    fi
  done < <(awk '/^[ \t]*#[ \t]*include[ \t]*"/ { split($0, q, "\""); print FNR ":" q[2] }' "$file")
done < <(find base kernels engine layers dml fairness api tools -type f \
           \( -name '*.h' -o -name '*.cpp' -o -name '*.cu' -o -name '*.cuh' \) 2>/dev/null | sort)

if ((violations > 0)); then
  echo "check_layers: $violations include(s) break the layer rule (docs/ARCHITECTURE.md, 'Layers'):" \
    "move what both need into the lower folder, or reach the kernels through an engine op"
  exit 1
fi
echo "check_layers: every include follows the layer rule"
