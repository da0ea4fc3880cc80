#!/usr/bin/env bash
# Installs the test-time npm tools of tests/node/ (s3rver, the AWS SDK) exactly as the lockfile
# pins them, when tests/node/node_modules is missing or older than tests/node/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=tests/node
if [[ ! -d $dir/node_modules || $dir/package-lock.json -nt $dir/node_modules ]]; then
  npm ci --prefix "$dir" --no-audit --no-fund
  touch "$dir/node_modules"  # npm ci may keep the folder's old time
fi
