#!/usr/bin/env bash
# Builds the web app (and its API docs) into web/app/dist, which `parley serve` serves at /.
# Installs the npm packages first (npm ci) when web/package-lock.json changed. Skips the build
# when dist is newer than every source; PARLEY_WEB_FORCE=1 rebuilds anyway.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: run scripts/install-deps.sh" >&2
  exit 1
fi

# npm ci when node_modules is missing or older than the lock file.
stamp=web/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ web/package-lock.json -nt "$stamp" ]; then
  echo "== web: npm ci"
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi

dist=web/app/dist/index.html
if [ "${PARLEY_WEB_FORCE:-0}" != "1" ] && [ -f "$dist" ] && [ -f web/app/dist/docs/openapi.yaml ] &&
  [ -z "$(find web/app/src web/app/docs-ui web/app/scripts web/app/index.html web/app/vite.config.ts \
    web/app/package.json web/sdk/src web/package-lock.json docs/openapi.yaml -newer "$dist" -print -quit)" ]; then
  echo "== web: app is up to date (web/app/dist)"
  exit 0
fi

echo "== web: build"
(cd web && npm run --silent build -w @parley/app)
# Newest file last: the skip test above compares sources with index.html.
touch "$dist"
