#!/usr/bin/env bash
# The quick-start test command: installs what is missing, builds, checks formatting and the
# layer graph (scripts/check-layers.sh), and runs
# every test (unit and integration; the integration tests start the real parley binary), runs
# the integration suite and the unit tests labelled postgres again against a throwaway
# PostgreSQL (scripts/with-postgres.sh), then
# the web tests (SDK and web app; scripts/test-web.sh), then clang's thread-safety analysis,
# clang-tidy, and the unit and chat/realtime integration tests under ThreadSanitizer and under
# AddressSanitizer+UBSan (scripts/test-sanitizers.sh; clang builds in build-tsan/, build-asan/).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/install-test-tools.sh
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
echo "== thread-safety analysis (clang -Wthread-safety)"
scripts/check-thread-safety.sh
echo "== clang-tidy"
scripts/check-tidy.sh
echo "== sanitizers (ThreadSanitizer, AddressSanitizer+UBSan)"
scripts/test-sanitizers.sh
