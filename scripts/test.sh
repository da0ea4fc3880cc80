#!/usr/bin/env bash
# The quick-start test command: installs what is missing, builds, checks formatting and the
# layer graph (scripts/check-layers.sh), and runs
# every test (unit and integration; the integration tests start the real parley binary), runs
# the integration suite and the unit tests labelled postgres again against a throwaway
# PostgreSQL (scripts/with-postgres.sh), then
# the web tests (SDK and web app; scripts/test-web.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
echo "== format"
scripts/check-format.sh
echo "== layers"
scripts/check-layers.sh
echo "== tests (SQLite)"
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
echo "== integration tests on PostgreSQL"
scripts/with-postgres.sh ctest --test-dir build --output-on-failure -j "$(nproc)" -L 'integration|postgres'
echo "== web"
scripts/test-web.sh
