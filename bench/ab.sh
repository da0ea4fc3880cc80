#!/usr/bin/env bash
# Before/after figures in one run: the same benchmarks against two builds, alternating
# (old, new, old, new, ...) so that both see the same machine. Prints each run's summary lines.
#   usage: bench/ab.sh OLD_BUILD_DIR NEW_BUILD_DIR [rounds]   (default 2 rounds)
#   ROUNDS_PG=1 adds parley-send-bench on a throwaway PostgreSQL (scripts/with-postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2 rounds=${3:-2}
run() {  # label build command...
  local label=$1 b=$2
  shift 2
  echo "--- $label ($b)"
  "$@" 2>&1 | grep -v '^seeding' | tail -25 || true
}
for ((i = 1; i <= rounds; i++)); do
  for b in "$old" "$new"; do
    run "send sqlite 64 senders / 16 channels" "$b" "$b/parley-send-bench" --store sqlite --senders 64 --channels 16 --seconds 5
    run "send sqlite 1024 senders / 64 channels" "$b" "$b/parley-send-bench" --store sqlite --senders 1024 --channels 64 --seconds 5
    run "fanout flat out, 1,000 members" "$b" "$new/parley-bench" fanout --spawn "$b/parley" --channels 1 --members 1000 --messages 2000
    run "fanout 300 msgs/s, 1,000 members" "$b" "$new/parley-bench" fanout --spawn "$b/parley" --channels 1 --members 1000 --messages 3000 --rate 300
    run "chat hot paths" "$b" "$b/parley-chat-bench" 300
    if [ "${ROUNDS_PG:-0}" = 1 ]; then
      for k in 64 1024; do
        run "send postgres $k senders / 64 channels, 2 committers" "$b" env PARLEY_PG_SERVER_OPTS="-c fsync=on" \
          scripts/with-postgres.sh "$b/parley-send-bench" --store postgres --senders "$k" --channels 64 --committers 2 --seconds 5
      done
    fi
  done
done
