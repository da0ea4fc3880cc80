#!/usr/bin/env bash
# Durable sends: Parley's group commit next to pgbench, in one run on one machine.
#  1. starts a throwaway PostgreSQL (scripts/with-postgres.sh) with fsync on, so a commit is
#     durable (override with PARLEY_PG_SERVER_OPTS);
#  2. pgbench: the same writes as one send, one transaction per send, at the same client count
#     on Parley's own schema (same indexes): the idempotency lookup, the channel seq
#     UPDATE … RETURNING, the message row insert, the sender's read position;
#  3. parley-send-bench on that PostgreSQL server and on SQLite (a temp file): ChatService with
#     group commit, every send acknowledged after its commit, results checked;
#  4. prints the figures and the ratios.
#   usage: bench/send_vs_pgbench.sh [build-dir]        (default: build)
#   environment: SENDERS (64), CHANNELS (16), DURATION (seconds per run, 10), BATCH_MAX (256),
#   WINDOW_US (0), PG_COMMITTERS (committer counts to run on PostgreSQL, "1 2"), PGBENCH_CLIENTS
#   (SENDERS, at most 256: each pgbench client is a PostgreSQL backend, and the throwaway server
#   allows 300 connections)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
senders=${SENDERS:-64}
channels=${CHANNELS:-16}
seconds=${DURATION:-10}
batch_max=${BATCH_MAX:-256}
window_us=${WINDOW_US:-0}
pg_committers=${PG_COMMITTERS:-1 2}
pgbench_clients=${PGBENCH_CLIENTS:-$((senders < 256 ? senders : 256))}

for bin in parley parley-send-bench; do
  [ -x "$build/$bin" ] || { echo "send_vs_pgbench: $build/$bin not built" >&2; exit 1; }
done
command -v pgbench >/dev/null || { echo "send_vs_pgbench: pgbench not found (apt-get install postgresql-contrib)" >&2; exit 1; }

if [ -z "${SEND_VS_PGBENCH_INNER:-}" ]; then
  export PARLEY_PG_SERVER_OPTS="${PARLEY_PG_SERVER_OPTS:--c fsync=on -c synchronous_commit=on}"
  export SEND_VS_PGBENCH_INNER=1
  exec "$root/scripts/with-postgres.sh" "$0" "$build"
fi

maint=$PARLEY_TEST_PG_URL
base=${maint%/*}
db=pgbench_parley
url="$base/$db"
work=$(mktemp -d /tmp/send-vs-pgbench.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "== machine: $(nproc) cores; load before: $(uptime | sed 's/.*load average/load average/')"
echo "== PostgreSQL: $(psql -Atq "$maint" -c 'SHOW server_version') fsync=$(psql -Atq "$maint" -c 'SHOW fsync')" \
  "synchronous_commit=$(psql -Atq "$maint" -c 'SHOW synchronous_commit')"
echo "== $senders clients/senders, $channels channels, $seconds s each"

# --- pgbench on Parley's schema ------------------------------------------------------------
psql -Atq "$maint" -c "CREATE DATABASE $db" >/dev/null
"$build/parley" migrate apply --database-url "$url" >/dev/null
psql -Atq "$url" -v ON_ERROR_STOP=1 >/dev/null <<SQL
INSERT INTO apps(id, name, jwt_secret, created_at, updated_at) VALUES ('app_pgb', 'pgbench', '\x00', 0, 0);
INSERT INTO channels(app_id, id, type, name, created_by, created_at, updated_at, activity_at, member_count)
  SELECT 'app_pgb', 'ch' || c, 'group', 'ch' || c, 'u' || c, 0, 0, 0, 0 FROM generate_series(0, $channels - 1) c;
INSERT INTO members(app_id, channel_id, user_id, role, joined_at)
  SELECT 'app_pgb', 'ch' || (u % $channels), 'u' || u, 'member', 0 FROM generate_series(0, $senders - 1) u;
ANALYZE;
SQL
cat >"$work/send.sql" <<'SQL'
\set chan :client_id % :channels
\set n random(1, 4000000000000000000)
BEGIN;
SELECT seq FROM messages WHERE app_id = 'app_pgb' AND channel_id = 'ch' || :chan AND user_id = 'u' || :client_id AND client_msg_id = 'c' || :n;
UPDATE channels SET last_seq = last_seq + 1, last_message_at = 1, activity_at = 1 WHERE app_id = 'app_pgb' AND id = 'ch' || :chan RETURNING last_seq AS seq \gset
INSERT INTO messages(app_id, channel_id, seq, user_id, text, attachments, mentions, client_msg_id, created_at) VALUES ('app_pgb', 'ch' || :chan, :seq, 'u' || :client_id, 's' || :client_id || '#' || :n || ' ' || repeat('x', 84), '[]', '[]', 'c' || :n, 1);
UPDATE members SET last_read_seq = GREATEST(last_read_seq, :seq) WHERE app_id = 'app_pgb' AND channel_id = 'ch' || :chan AND user_id = 'u' || :client_id;
END;
SQL
echo
echo "== pgbench -M prepared -c $pgbench_clients -j 2 -T $seconds (one transaction per send)"
pgbench -n -M prepared -c "$pgbench_clients" -j 2 -T "$seconds" -D channels="$channels" -f "$work/send.sql" "$url" \
  >"$work/pgbench.out" 2>&1 || { cat "$work/pgbench.out"; exit 1; }
grep -E "^(number of transactions actually processed|number of failed|latency average|tps)" "$work/pgbench.out"
pg_tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$work/pgbench.out" | head -n 1)
gaps=$(psql -Atq "$url" -c "SELECT (SELECT sum(last_seq) FROM channels) - (SELECT count(*) FROM messages)")
echo "pgbench: $pg_tps sends/s; seq check (last_seq total - rows): $gaps"
psql -Atq "$maint" -c "DROP DATABASE $db WITH (FORCE)" >/dev/null

# --- Parley ------------------------------------------------------------------------------
run_parley() {  # store, committers
  echo
  echo "== parley-send-bench --store $1 --senders $senders --channels $channels --seconds $seconds" \
    "--batch-max $batch_max --window-us $window_us --committers $2"
  "$build/parley-send-bench" --store "$1" --senders "$senders" --channels "$channels" --seconds "$seconds" \
    --batch-max "$batch_max" --window-us "$window_us" --committers "$2" | tee "$work/$1-$2.out"
}
for n in $pg_committers; do run_parley postgres "$n"; done
run_parley sqlite 1
rate() { sed -n 's/.*"msgs_per_sec":\([0-9.]*\).*/\1/p' "$work/$1.out"; }
sqlite_rate=$(rate sqlite-1)

echo
echo "== summary (durable sends per second, $senders concurrent senders)"
printf '%-38s %10.0f\n' "pgbench, one transaction per send ($pgbench_clients clients)" "$pg_tps"
for n in $pg_committers; do
  pg_rate=$(rate "postgres-$n")
  printf '%-38s %10.0f   %.1fx pgbench\n' "Parley on PostgreSQL, $n committer(s)" "$pg_rate" \
    "$(awk -v a="$pg_rate" -v b="$pg_tps" 'BEGIN { print a / b }')"
done
printf '%-38s %10.0f   %.1fx pgbench\n' "Parley on SQLite, group commit" "$sqlite_rate" \
  "$(awk -v a="$sqlite_rate" -v b="$pg_tps" 'BEGIN { print a / b }')"
echo "load after: $(uptime | sed 's/.*load average/load average/')"
