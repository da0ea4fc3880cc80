#!/usr/bin/env bash
# Seeds a throwaway database with 1,000 channels, 200 members each (plus a 20,000-message
# channel and mention flags) and prints EXPLAIN for the hot queries (see docs/postgres.md).
#   usage: scripts/with-postgres.sh scripts/explain-postgres.sh
set -euo pipefail
URL="$PARLEY_TEST_PG_URL"
DB="${URL%/postgres}/parley_explain"
psql "$URL" -qc "CREATE DATABASE parley_explain" >/dev/null
"$(dirname "$0")/../build/parley" migrate apply --database-url "$DB" >/dev/null
psql "$DB" -q <<'SQL'
INSERT INTO apps(id, name, settings, jwt_secret, created_at, updated_at) VALUES ('app_x', 'x', '{}', 'k', 1, 1);
INSERT INTO users(app_id, id, created_at, updated_at) SELECT 'app_x', 'u' || g, 1, 1 FROM generate_series(0, 999) g;
INSERT INTO channels(app_id, id, type, name, name_lower, created_by, created_at, updated_at, activity_at, last_seq, member_count)
  SELECT 'app_x', 'ch' || g, 'group', 'c' || g, 'c' || g, 'u0', 1, 1, g, CASE WHEN g = 0 THEN 20000 ELSE 5 END, 2 FROM generate_series(0, 999) g;
INSERT INTO members(app_id, channel_id, user_id, role, joined_at, last_read_seq)
  SELECT 'app_x', 'ch' || g, 'u0', 'member', 1, 2 FROM generate_series(0, 999) g;
INSERT INTO members(app_id, channel_id, user_id, role, joined_at)
  SELECT 'app_x', 'ch' || g, 'u1', 'member', 1 FROM generate_series(0, 999) g;
INSERT INTO members(app_id, channel_id, user_id, role, joined_at)
  SELECT 'app_x', 'ch' || g, 'u' || u, 'member', 1 FROM generate_series(0, 999) g, generate_series(2, 199) u;
INSERT INTO message_flags(app_id, user_id, channel_id, seq, flags, created_at)
  SELECT 'app_x', 'u' || u, 'ch' || g, 5, 1, 1 FROM generate_series(0, 999) g, generate_series(2, 99) u;
INSERT INTO messages(app_id, channel_id, seq, user_id, text, created_at)
  SELECT 'app_x', 'ch' || c, s, 'u1', 'hello', 1 FROM generate_series(1, 999) c, generate_series(1, 5) s;
INSERT INTO messages(app_id, channel_id, seq, user_id, text, created_at)
  SELECT 'app_x', 'ch0', s, 'u1', repeat('x', 100), 1 FROM generate_series(1, 20000) s;
ANALYZE;
SQL
q() { echo; echo "-- $1"; psql "$DB" -At -c "EXPLAIN $2"; }
q "history page (before_seq, newest first)" "SELECT seq, text FROM messages WHERE app_id = 'app_x' AND channel_id = 'ch0' AND seq < 15000 ORDER BY seq DESC LIMIT 201"
q "history page (after_seq) / sync per channel" "SELECT seq, text FROM messages WHERE app_id = 'app_x' AND channel_id = 'ch0' AND seq > 14000 ORDER BY seq LIMIT 201"
q "channel list page (member's channels by activity)" "SELECT pc.id FROM members pm JOIN channels pc ON pc.app_id = pm.app_id AND pc.id = pm.channel_id WHERE pm.app_id = 'app_x' AND pm.user_id = 'u0' AND pc.deleted_at IS NULL ORDER BY pc.activity_at DESC, pc.id LIMIT 51"
q "unread: deleted messages after the read seq" "SELECT count(*) FROM messages d WHERE d.app_id = 'app_x' AND d.channel_id = 'ch0' AND d.seq > 100 AND d.deleted_at IS NOT NULL"
q "unread mentions of a member" "SELECT count(*) FROM message_flags f WHERE f.app_id = 'app_x' AND f.user_id = 'u0' AND f.channel_id = 'ch0' AND f.seq > 100 AND (f.flags & 1) != 0"
q "sync: memberships or channels changed since a version" "SELECT c.id FROM members m JOIN channels c ON c.app_id = m.app_id AND c.id = m.channel_id WHERE m.app_id = 'app_x' AND m.user_id = 'u0' AND (m.version > 5 OR c.version > 5)"
q "thread replies" "SELECT seq FROM messages WHERE app_id = 'app_x' AND channel_id = 'ch0' AND parent_seq = 3 AND seq > 0 ORDER BY seq LIMIT 51"
q "idempotent send lookup" "SELECT seq FROM messages WHERE app_id = 'app_x' AND channel_id = 'ch0' AND user_id = 'u1' AND client_msg_id = 'c1'"
