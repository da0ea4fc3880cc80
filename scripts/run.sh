#!/usr/bin/env bash
# The quick-start run command: installs what is missing, builds the server and the web app,
# and serves Parley on the embedded default (SQLite in ./data) at http://localhost:8080 (the
# chat app at /, API docs at /docs/). Extra arguments go to `parley serve` (e.g. --port 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
scripts/build-web.sh
exec ./build/parley serve --data-dir ./data "$@"
