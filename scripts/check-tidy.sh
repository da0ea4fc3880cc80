#!/usr/bin/env bash
# clang-tidy over every source file of src/ with the committed .clang-tidy, findings as errors.
# Uses build/compile_commands.json (scripts/build.sh makes it).
#   usage: scripts/check-tidy.sh [build-dir] [path-substring]   (e.g. build src/realtime/)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
only=${2:-}
if ! command -v clang-tidy >/dev/null; then
  echo "check-tidy: clang-tidy not found (apt-get install clang-tidy)" >&2
  exit 1
fi
find src -name '*.cpp' -path "*${only}*" -print0 | sort -z |
  xargs -0 -n 4 -P "$(nproc)" clang-tidy -p "$build" --quiet --warnings-as-errors='*' 2>/dev/null
echo "check-tidy: clean"
