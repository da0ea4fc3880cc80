#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL server: initdb into a temporary folder, start it
# on a free loopback port (trust auth, 127.0.0.1 only), export PARLEY_TEST_PG_URL (a maintenance
# database URL: the test harness creates one fresh database per server from it), run the
# command, then stop the server and delete the folder — also when the command fails.
# Uses Debian's postgresql binaries; as root the server runs as the `postgres` user.
# The server runs with fsync=off (tests need no durability); PARLEY_PG_SERVER_OPTS adds or
# overrides server settings, e.g. PARLEY_PG_SERVER_OPTS="-c fsync=on" for benchmarks.
#   usage: scripts/with-postgres.sh <command> [args...]
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ]; then
  echo "with-postgres: PostgreSQL binaries not found (apt-get install postgresql)" >&2
  exit 1
fi

dir=$(mktemp -d /tmp/parley-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres:postgres "$dir"
  as_pg=(runuser -u postgres --)
fi

cleanup() {
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${as_pg[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 || {
  cat "$dir/initdb.log" >&2
  exit 1
}

port=""
for _ in 1 2 3 4 5 6 7 8; do
  candidate=$((40000 + RANDOM % 20000))
  if "${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-p $candidate -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300 ${PARLEY_PG_SERVER_OPTS:-}" \
      start >/dev/null 2>&1; then
    port=$candidate
    break
  fi
done
if [ -z "$port" ]; then
  echo "with-postgres: could not start PostgreSQL" >&2
  cat "$dir/server.log" >&2 || true
  exit 1
fi

export PARLEY_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL on 127.0.0.1:$port (data in $dir)"
"$@"
