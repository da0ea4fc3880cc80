#!/usr/bin/env bash
# The quick-start test command: installs what is missing, builds, checks formatting and runs
# every test (unit and integration; the integration tests start the real parley binary), then
# the web tests (SDK and web app; scripts/test-web.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
echo "== format"
scripts/check-format.sh
echo "== tests"
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
echo "== web"
scripts/test-web.sh
