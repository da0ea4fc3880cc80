#!/usr/bin/env bash
# The web tests: npm ci, typecheck, the SDK's unit tests, its integration tests against the
# real server (build/parley), and the web app's browser tests in Debian's chromium (headless,
# through playwright-core). Expects build/parley (scripts/build.sh) and chromium
# (scripts/install-deps.sh). Screenshots of failed browser tests: build/web-test-results/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x build/parley ]; then
  echo "build/parley is missing: run scripts/build.sh first" >&2
  exit 1
fi

results=build/web-test-results
rm -rf "$results"
mkdir -p "$results"

echo "== web: npm ci"
(cd web && npm ci --no-audit --no-fund --loglevel=error)

echo "== web: typecheck"
(cd web && npm run --silent typecheck)

echo "== web: build (SDK package, app and API docs)"
(cd web && npm run --silent build -w @parley/client)
scripts/build-web.sh

status=0
for suite in unit integration browser; do
  echo "== web: $suite tests"
  (cd web && node_modules/.bin/vitest run --project "$suite" \
    --reporter=default --reporter=json --outputFile="../$results/$suite.json") || status=1
done

# One closing line over the three suites.
node -e '
  let passed = 0, failed = 0, skipped = 0;
  for (const suite of ["unit", "integration", "browser"]) {
    try {
      const r = require(process.argv[1] + "/" + suite + ".json");
      passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
    } catch { failed += 1; console.log(suite + ": no results"); }
  }
  console.log(`web: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$PWD/$results"
exit $status
