#!/usr/bin/env bash
# The quick-start run command: installs what is missing, builds, and serves Parley on the
# embedded default (SQLite in ./data) at http://localhost:8080. Extra arguments go to
# `parley serve` (e.g. --port 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec ./build/parley serve --data-dir ./data "$@"
