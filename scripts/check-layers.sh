#!/usr/bin/env bash
# The layer graph of src/: every folder has a layer, and a file may include only its own folder
# or folders of lower layers, so no two folders include each other and no cycle can form.
# A new folder must be given a layer here (docs/architecture.md draws the same graph).
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A layer=(
  [core]=0
  [config]=1 [metrics]=1 [net]=1 [bus]=1 [outbound]=1
  [store]=2
  [tenancy]=3 [users]=3 [jobs]=3
  [auth]=4 [chat]=4 [webhooks]=4 [previews]=4 [search]=4 [files]=4
  [services]=5
  [api]=6 [realtime]=6
  [server]=7
  [cli]=8
)

fail=0
for dir in src/*/; do
  from=$(basename "$dir")
  if [[ -z "${layer[$from]+x}" ]]; then
    echo "check-layers: src/$from/ has no layer in scripts/check-layers.sh" >&2
    fail=1
    continue
  fi
  while IFS=: read -r file _ include; do
    to=${include#*\"}
    to=${to%%/*}
    [[ "$to" == "$from" ]] && continue
    if [[ -z "${layer[$to]+x}" ]]; then
      echo "check-layers: $file includes $to/, which has no layer" >&2
      fail=1
    elif ((layer[$to] >= layer[$from])); then
      echo "check-layers: $file ($from, layer ${layer[$from]}) includes $to/ (layer ${layer[$to]}): only lower layers" >&2
      fail=1
    fi
  done < <(grep -rnE '^#include "[a-z_]+/' "$dir" || true)
done
if ((fail)); then exit 1; fi
echo "check-layers: ok (${#layer[@]} folders, every include points down)"
