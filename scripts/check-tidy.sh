#!/usr/bin/env bash
# clang-tidy over every source file of src/ with the committed .clang-tidy, findings as errors.
# Uses build/compile_commands.json (scripts/build.sh makes it). A file that passed is remembered
# in ~/.cache/parley-tidy under a hash of its text, every header of src/, .clang-tidy and the
# clang-tidy version, so a run over an unchanged tree (CI after a local run) checks nothing again;
# any header change re-checks every file.
#   usage: scripts/check-tidy.sh [build-dir] [path-substring]   (e.g. build src/realtime/)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
only=${2:-}
if ! command -v clang-tidy >/dev/null; then
  echo "check-tidy: clang-tidy not found (apt-get install clang-tidy)" >&2
  exit 1
fi
cache=${XDG_CACHE_HOME:-$HOME/.cache}/parley-tidy
mkdir -p "$cache"
common=$({ clang-tidy --version; cat .clang-tidy; find src -name '*.hpp' -print0 | sort -z | xargs -0 cat; } | sha256sum | cut -c1-64)
todo=()
while IFS= read -r -d '' f; do
  key=$({ echo "$common"; echo "$f"; cat "$f"; } | sha256sum | cut -c1-64)
  [ -e "$cache/$key" ] || todo+=("$f")
done < <(find src -name '*.cpp' -path "*${only}*" -print0 | sort -z)
echo "check-tidy: ${#todo[@]} file(s) to check"
if [ ${#todo[@]} -gt 0 ]; then
  printf '%s\0' "${todo[@]}" |
    xargs -0 -n 4 -P "$(nproc)" clang-tidy -p "$build" --quiet --warnings-as-errors='*' 2>/dev/null
  # Only reached when every file passed (xargs fails otherwise).
  for f in "${todo[@]}"; do
    key=$({ echo "$common"; echo "$f"; cat "$f"; } | sha256sum | cut -c1-64)
    touch "$cache/$key"
  done
fi
echo "check-tidy: clean"
